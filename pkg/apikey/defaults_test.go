package apikey

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/defaultstest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// TestDocumentedDefaultsApplied: every field's documented default is what
// a config that leaves the field unset compiles to (see defaultstest).
func TestDocumentedDefaultsApplied(t *testing.T) {
	cfg := Config{Credentials: []Credential{{ID: "k1", Consumer: "alice", KeyHash: "sha256:" + strings.Repeat("ab", 32)}}}
	a, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	missing := errcode.New(errcode.APIKeyMissing, "")
	defaultstest.Check(t, &cfg, map[string]defaultstest.Applied{
		"key_names":        func(w any) bool { return reflect.DeepEqual(a.names, w) },
		"key_in_header":    func(w any) bool { return a.inHeader == w },
		"key_in_query":     func(w any) bool { return a.inQuery == w },
		"key_in_body":      func(w any) bool { return a.inBody == w },
		"hide_credentials": func(w any) bool { return a.hide == w },
		"anonymous":        func(w any) bool { return a.policy.Anonymous == w },
		"run_on_preflight": func(w any) bool { return a.policy.RunOnPreflight == w },
		"realm":            func(w any) bool { return a.policy.Challenge(missing) == gateway.KeyChallenge(w.(string))(missing) },
		"log_level":        func(w any) bool { return a.policy.LogLevel == w },
		"credentials_file": func(w any) bool { return (a.file == nil) == (w == "") },
		"credentials": func(w any) bool {
			var zero Config
			_ = kongschema.ApplyDefaults(&zero)
			return reflect.DeepEqual(zero.Credentials, w)
		},
	})
}
