package main

import (
	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/oauth"
)

// Handler is one plugin instance as Kong drives it: the Config Kong sends
// in StartInstance, compiled once per process, and the access
// phase (gateway.Plugin).
type Handler = gateway.Plugin[Config, *oauth.Authenticator]

// New is the plugin server's constructor: one Handler per instance.
var New = gateway.NewPlugin(oauth.PluginName, (*Config).Compile)

// A phase method with the wrong signature would compile and never run;
// these guards fail the build instead.
var (
	_ interface{ Access(*pdk.PDK) } = (*Handler)(nil)
)
