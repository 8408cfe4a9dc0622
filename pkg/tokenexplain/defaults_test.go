package tokenexplain

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/defaultstest"
)

// TestDocumentedDefaultsApplied: every field's documented default is what
// a config that leaves the field unset compiles to (see defaultstest).
func TestDocumentedDefaultsApplied(t *testing.T) {
	var cfg Config
	c, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	// An empty allow-list allows anything: no set is built.
	empty := func(m map[string]bool) defaultstest.Applied {
		return func(w any) bool { return len(w.([]string)) == 0 && m == nil }
	}
	defaultstest.Check(t, &cfg, map[string]defaultstest.Applied{
		"allowed_client_ids":        empty(c.allow.ClientIDs),
		"allowed_redirect_uris":     empty(c.allow.RedirectURIs),
		"allowed_scopes":            empty(c.allow.Scopes),
		"allowed_grant_types":       empty(c.allow.GrantTypes),
		"enforce":                   func(w any) bool { return c.enforce == w },
		"rewrite_invalid_responses": func(w any) bool { return c.rewrite == w },
		"log_level":                 func(w any) bool { return c.policy.LogLevel == w },
	})
}
