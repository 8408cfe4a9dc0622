package main

import "github.com/kong-authkit/kong-authkit/pkg/oauth"

// Config is authkit-oauth's kong.yaml configuration. Its fields, their defaults
// and their rules live in oauth.Config, which `authkit check`, the README
// tables and the schema Kong reads from -dump share.
type Config = oauth.Config
