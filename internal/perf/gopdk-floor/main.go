// Command gopdk-floor is the Go floor of the performance comparison: a
// plugin on go-pdk's own server that does the least a Go plugin can do in
// the access phase (read one header). The directory name is the plugin name.
package main

import (
	"github.com/Kong/go-pdk"
	"github.com/Kong/go-pdk/server"
)

// Config has no fields.
type Config struct{}

// New is go-pdk's constructor.
func New() interface{} { return &Config{} }

// Access reads one header and lets the request through.
func (c *Config) Access(k *pdk.PDK) { _, _ = k.Request.GetHeader("apikey") }

func main() { _ = server.StartServer(New, "0.1.0", 1000) }
