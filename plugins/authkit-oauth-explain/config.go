package main

import "github.com/kong-authkit/kong-authkit/pkg/tokenexplain"

// Config is authkit-oauth-explain's kong.yaml configuration; fields,
// defaults and validation live in tokenexplain.Config.
type Config tokenexplain.Config

// New is go-pdk's constructor; it must return a pointer.
func New() interface{} { return &Config{} }

// UnmarshalJSON decodes the JSON Kong sends in StartInstance.
func (c *Config) UnmarshalJSON(b []byte) error { return (*tokenexplain.Config)(c).UnmarshalJSON(b) }
