package main

import (
	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/basicauth"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// Access authenticates the request (Kong's access phase).
func (c *Config) Access(k *pdk.PDK) {
	bc := (*basicauth.Config)(c)
	gateway.Serve(gateway.PDK(k), basicauth.PluginName, bc.Meta(), bc.Prepare)
}

// A wrong Access signature would compile and never run; this guard fails
// the build instead.
var _ interface{ Access(*pdk.PDK) } = (*Config)(nil)
