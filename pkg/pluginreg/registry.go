// Package pluginreg lists the kong-authkit plugins and compiles a config
// for any of them with the very code the plugin runs, so `authkit check`
// and the kong.yaml tests judge a config exactly as the gateway will.
package pluginreg

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/kong-authkit/kong-authkit/pkg/apikey"
	"github.com/kong-authkit/kong-authkit/pkg/basicauth"
	"github.com/kong-authkit/kong-authkit/pkg/oauth"
	"github.com/kong-authkit/kong-authkit/pkg/tokenexplain"
)

// Plugin describes one authkit plugin.
type Plugin struct {
	Name string
	// New returns an empty config (a pointer to the struct Kong's schema is
	// reflected from).
	New func() any
	// Compile validates a decoded config the way the plugin does at run
	// time, and returns the warnings of a config that compiles (it works,
	// but weakens a guarantee); the gateway logs them once at warn.
	Compile func(cfg any) (warnings []string, err error)
	// Version and Priority are what the plugin binary reports in -dump
	// (each plugin's tests keep them equal): a schema.lua's stub handler
	// needs them, since a hybrid control plane compares plugin versions
	// with its data planes'.
	Version  string
	Priority int
	// Authenticates is true for a plugin whose config compiles to a
	// gateway.Authenticator (not for authkit-oauth-explain, which
	// inspects token-endpoint traffic).
	Authenticates bool
}

var plugins = map[string]Plugin{}

// Register adds a plugin; called from this package's init only.
func register(p Plugin) { plugins[p.Name] = p }

func init() {
	register(Plugin{
		Name:          basicauth.PluginName,
		Version:       "0.1.0",
		Priority:      1100,
		New:           func() any { return &basicauth.Config{} },
		Authenticates: true,
		Compile: func(c any) ([]string, error) {
			a, err := c.(*basicauth.Config).Compile()
			if err != nil {
				return nil, err
			}
			return a.Warnings(), nil
		},
	})
	register(Plugin{
		Name:          apikey.PluginName,
		Version:       "0.1.0",
		Priority:      1250,
		New:           func() any { return &apikey.Config{} },
		Compile:       func(c any) ([]string, error) { _, err := c.(*apikey.Config).Compile(); return nil, err },
		Authenticates: true,
	})
	register(Plugin{
		Name:     oauth.PluginName,
		Version:  "0.1.0",
		Priority: 1450,
		New:      func() any { return &oauth.Config{} },
		Compile: func(c any) ([]string, error) {
			a, err := c.(*oauth.Config).Compile()
			if err != nil {
				return nil, err
			}
			return a.Policy().Warnings, nil
		},
		Authenticates: true,
	})
	register(Plugin{
		Name:     tokenexplain.PluginName,
		Version:  "0.1.0",
		Priority: 900,
		New:      func() any { return &tokenexplain.Config{} },
		Compile:  func(c any) ([]string, error) { _, err := c.(*tokenexplain.Config).Compile(); return nil, err },
	})
}

// Names returns the registered plugin names, sorted.
func Names() []string {
	out := make([]string, 0, len(plugins))
	for n := range plugins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the plugin called name.
func Lookup(name string) (Plugin, bool) { p, ok := plugins[name]; return p, ok }

// CompileJSON decodes a config as Kong would send it and compiles it.
func CompileJSON(name string, config []byte) error {
	_, err := CheckJSON(name, config)
	return err
}

// CheckJSON is CompileJSON that also returns the warnings of a config that
// compiles.
func CheckJSON(name string, config []byte) (warnings []string, err error) {
	p, ok := plugins[name]
	if !ok {
		return nil, fmt.Errorf("unknown authkit plugin %q", name)
	}
	cfg := p.New()
	if err := json.Unmarshal(config, cfg); err != nil {
		return nil, fmt.Errorf("decoding config: %w", err)
	}
	return p.Compile(cfg)
}
