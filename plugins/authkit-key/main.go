// Command authkit-key is a Kong plugin for API keys stored only as SHA-256
// hashes, with expiry and rotation, served by the project's plugin server
// (go-pdk's protocol, pkg/pluginserver).
package main

import (
	"log"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority runs it where Kong's own key-auth runs (1250).
const Priority = 1250

func main() {
	if err := pluginserver.Start(New, Version, Priority); err != nil {
		log.Fatal(err)
	}
}
