// Command authkit-oauth is a Kong plugin that validates OAuth 2.0 bearer
// access tokens: JWTs against the provider's JWKS, opaque tokens by RFC
// 7662 introspection. It is served by the project's plugin server (go-pdk's
// protocol, pkg/pluginserver).
package main

import (
	"log"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority runs it where Kong's own jwt plugin runs (1450).
const Priority = 1450

func main() {
	if err := pluginserver.Start(New, Version, Priority); err != nil {
		log.Fatal(err)
	}
}
