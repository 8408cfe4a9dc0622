package main

import (
	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/tokenexplain"
)

// Access refuses requests that break the allow-lists (with enforce).
func (c *Config) Access(k *pdk.PDK) { (*tokenexplain.Config)(c).Access(gateway.PDK(k)) }

// Response explains the provider's answer.
func (c *Config) Response(k *pdk.PDK) { (*tokenexplain.Config)(c).Response(gateway.PDK(k)) }

var (
	_ interface{ Access(*pdk.PDK) }   = (*Config)(nil)
	_ interface{ Response(*pdk.PDK) } = (*Config)(nil)
)
