//go:build ignore

// gendoc writes docs/error-codes.md from the catalog.
package main

import (
	"log"
	"os"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func main() {
	if err := os.WriteFile("../../docs/error-codes.md", errcode.Markdown(), 0o644); err != nil {
		log.Fatal(err)
	}
}
