// Command authkit-key is a Kong plugin (go-pdk embedded server) for API
// keys stored only as SHA-256 hashes, with expiry and rotation.
package main

import "github.com/Kong/go-pdk/server"

// Version is the plugin version Kong reports (x.y.z).
const Version = "0.1.0"

// Priority runs it where Kong's own key-auth runs (1250).
const Priority = 1250

func main() {
	_ = server.StartServer(New, Version, Priority)
}
