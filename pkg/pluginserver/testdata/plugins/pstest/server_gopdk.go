//go:build gopdkserver

package main

import "github.com/Kong/go-pdk/server"

func main() { _ = server.StartServer(New, "0.1.0", 1000) }
