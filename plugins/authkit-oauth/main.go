// Command authkit-oauth is a Kong plugin (go-pdk embedded server) that
// validates OAuth 2.0 bearer access tokens: JWTs against the provider's
// JWKS, opaque tokens by RFC 7662 introspection.
package main

import "github.com/Kong/go-pdk/server"

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority runs it where Kong's own jwt plugin runs (1450).
const Priority = 1450

func main() {
	_ = server.StartServer(New, Version, Priority)
}
