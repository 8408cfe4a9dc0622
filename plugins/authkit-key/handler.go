package main

import (
	"github.com/Kong/go-pdk"

	"github.com/kong-authkit/kong-authkit/pkg/apikey"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// Handler is one plugin instance as Kong drives it: the Config Kong sends
// in StartInstance, compiled once per process, and the access
// phase (gateway.Plugin).
type Handler = gateway.Plugin[Config, *apikey.Authenticator]

// New is the plugin server's constructor: one Handler per instance.
var New = gateway.NewPlugin(apikey.PluginName, (*Config).Compile)

// A phase method with the wrong signature would compile and never run;
// these guards fail the build instead.
var (
	_ interface{ Access(*pdk.PDK) } = (*Handler)(nil)
)
