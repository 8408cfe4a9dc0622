// Command authkit-basic is a Kong plugin for HTTP Basic authentication
// against slow password hashes, served by the project's plugin server
// (go-pdk's protocol, pkg/pluginserver). Kong runs it with -dump to read
// its schema, then as the plugin server.
package main

import (
	"log"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority runs it where Kong's own basic-auth runs (1100).
const Priority = 1100

func main() {
	if err := pluginserver.Start(New, Version, Priority); err != nil {
		log.Fatal(err)
	}
}
