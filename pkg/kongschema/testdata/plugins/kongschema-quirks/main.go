// Command kongschema-quirks is a test plugin: it exists only so the tests
// can compare FromStruct with the schema the real go-pdk server dumps.
package main

import (
	"github.com/Kong/go-pdk/server"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema/internal/quirks"
)

// New is go-pdk's constructor.
func New() interface{} { return &quirks.Config{} }

func main() { _ = server.StartServer(New, "0.1.0", 1) }
