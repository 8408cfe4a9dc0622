// Command authkit-basic is a Kong plugin (go-pdk embedded server) for HTTP
// Basic authentication against slow password hashes. Kong runs it with
// -dump to read its schema, then as the plugin server.
package main

import "github.com/Kong/go-pdk/server"

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority runs it where Kong's own basic-auth runs (1100).
const Priority = 1100

func main() {
	_ = server.StartServer(New, Version, Priority)
}
