// Command own-floor is the Go floor (one get_header in the access phase)
// on the project's plugin server (pkg/pluginserver) instead of go-pdk's:
// the same handler as gopdk-floor, so the performance comparison shows what
// the server alone changes for the least a plugin can do. The directory
// name is the plugin name.
package main

import (
	"log"

	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Config has no fields.
type Config struct{}

// New is go-pdk's constructor.
func New() interface{} { return &Config{} }

// Access reads one header and lets the request through.
func (c *Config) Access(k *pdk.PDK) { _, _ = k.Request.GetHeader("apikey") }

func main() {
	if err := pluginserver.Start(New, "0.1.0", 1000); err != nil {
		log.Fatal(err)
	}
}
