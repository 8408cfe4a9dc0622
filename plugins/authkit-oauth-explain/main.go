// Command authkit-oauth-explain is a Kong plugin for the route in front of
// an OAuth provider's token and authorization endpoints, served by the
// project's plugin server (pkg/pluginserver): it names what went wrong in
// the provider's answer. It is its own binary because its Response handler
// makes Kong buffer every response of the routes it is on — the
// token-validation plugins must never pay that.
package main

import (
	"log"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority: after the auth plugins, before request transformers (801).
const Priority = 900

func main() {
	if err := pluginserver.Start(New, Version, Priority); err != nil {
		log.Fatal(err)
	}
}
