package main

import "github.com/kong-authkit/kong-authkit/pkg/basicauth"

// Config is authkit-basic's kong.yaml configuration. Its fields, their defaults
// and their rules live in basicauth.Config, which `authkit check`, the README
// tables and the schema Kong reads from -dump share.
type Config = basicauth.Config
