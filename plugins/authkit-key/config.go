package main

import "github.com/kong-authkit/kong-authkit/pkg/apikey"

// Config is authkit-key's kong.yaml configuration. Its fields, their defaults
// and their rules live in apikey.Config, which `authkit check`, the README
// tables and the schema Kong reads from -dump share.
type Config = apikey.Config
