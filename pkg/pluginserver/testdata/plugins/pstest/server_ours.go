//go:build !gopdkserver

package main

import "github.com/kong-authkit/kong-authkit/pkg/pluginserver"

func main() { _ = pluginserver.Start(New, "0.1.0", 1000) }
