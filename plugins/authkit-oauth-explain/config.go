package main

import "github.com/kong-authkit/kong-authkit/pkg/tokenexplain"

// Config is authkit-oauth-explain's kong.yaml configuration. Its fields, their defaults
// and their rules live in tokenexplain.Config, which `authkit check`, the README
// tables and the schema Kong reads from -dump share.
type Config = tokenexplain.Config
