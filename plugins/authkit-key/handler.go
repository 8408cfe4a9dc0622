package main

import (
	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/apikey"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// Access authenticates the request (Kong's access phase).
func (c *Config) Access(k *pdk.PDK) {
	kc := (*apikey.Config)(c)
	gateway.Serve(gateway.PDK(k), apikey.PluginName, kc.Meta(), kc.Prepare)
}

var _ interface{ Access(*pdk.PDK) } = (*Config)(nil)
