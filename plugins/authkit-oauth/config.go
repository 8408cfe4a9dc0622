package main

import "github.com/kong-authkit/kong-authkit/pkg/oauth"

// Config is authkit-oauth's kong.yaml configuration; fields, defaults and
// validation live in oauth.Config (shared with `authkit check`).
type Config oauth.Config

// New is go-pdk's constructor; it must return a pointer.
func New() interface{} { return &Config{} }

// UnmarshalJSON decodes the JSON Kong sends in StartInstance.
func (c *Config) UnmarshalJSON(b []byte) error { return (*oauth.Config)(c).UnmarshalJSON(b) }
