// Command gen rewrites the README's config reference sections.
package main

import (
	"log"

	"github.com/kong-authkit/kong-authkit/internal/configdoc"
)

func main() {
	if err := configdoc.Update("../.."); err != nil {
		log.Fatal(err)
	}
}
