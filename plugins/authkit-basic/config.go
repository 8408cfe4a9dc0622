package main

import "github.com/kong-authkit/kong-authkit/pkg/basicauth"

// Config is authkit-basic's kong.yaml configuration; its fields, defaults
// and validation live in basicauth.Config (shared with `authkit check`).
type Config basicauth.Config

// New is go-pdk's constructor; it must return a pointer.
func New() interface{} { return &Config{} }

// UnmarshalJSON decodes the JSON Kong sends in StartInstance.
func (c *Config) UnmarshalJSON(b []byte) error { return (*basicauth.Config)(c).UnmarshalJSON(b) }
