package main

import "github.com/kong-authkit/kong-authkit/pkg/apikey"

// Config is authkit-key's kong.yaml configuration; its fields, defaults and
// validation live in apikey.Config (shared with `authkit check`).
type Config apikey.Config

// New is go-pdk's constructor; it must return a pointer.
func New() interface{} { return &Config{} }

// UnmarshalJSON decodes the JSON Kong sends in StartInstance.
func (c *Config) UnmarshalJSON(b []byte) error { return (*apikey.Config)(c).UnmarshalJSON(b) }
