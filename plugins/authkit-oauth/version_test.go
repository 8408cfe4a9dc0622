package main

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

// The registry's version and priority (a schema.lua's stub handler, for
// hybrid control planes) are the binary's.
func TestRegistryHasVersionAndPriority(t *testing.T) {
	p, ok := pluginreg.Lookup("authkit-oauth")
	if !ok || p.Version != Version || p.Priority != Priority {
		t.Fatalf("pluginreg: %+v, want version %s priority %d", p, Version, Priority)
	}
}
