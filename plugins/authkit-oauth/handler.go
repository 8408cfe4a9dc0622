package main

import (
	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/oauth"
)

// Access validates the bearer token (Kong's access phase).
func (c *Config) Access(k *pdk.PDK) {
	oc := (*oauth.Config)(c)
	gateway.Serve(gateway.PDK(k), oauth.PluginName, oc.Meta(), oc.Prepare)
}

var _ interface{ Access(*pdk.PDK) } = (*Config)(nil)
