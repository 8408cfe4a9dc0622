package basicauth

import (
	"reflect"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/defaultstest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// TestDocumentedDefaultsApplied: every field's documented default (its
// `default` tag, which the README's table and Kong's schema show) is what
// a config that leaves the field unset compiles to. A new defaulted field
// needs a row here.
func TestDocumentedDefaultsApplied(t *testing.T) {
	cfg := Config{Credentials: []Credential{{Username: "alice", PasswordHash: "$2a$04$abcdefghijklmnopqrstuu5XJ0SvHg7pMKXN9oM8pZ3kqVdOa0vC6", Consumer: "alice"}}}
	a, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	missing := errcode.New(errcode.BasicMissing, "")
	applied := map[string]defaultstest.Applied{
		"realm":            func(w any) bool { return a.policy.Challenge(missing) == gateway.BasicChallenge(w.(string))(missing) },
		"hide_credentials": func(w any) bool { return a.hide == w },
		"anonymous":        func(w any) bool { return a.policy.Anonymous == w },
		"run_on_preflight": func(w any) bool { return a.policy.RunOnPreflight == w },
		"log_level":        func(w any) bool { return a.policy.LogLevel == w },
		"credentials_file": func(w any) bool { return (a.file == nil) == (w == "") },
		"cache_ttl_seconds": func(w any) bool {
			return a.cache.ttl == time.Duration(w.(int))*time.Second
		},
		// 0 and 0: the lockout is off.
		"max_failures":    func(w any) bool { return w == 0 && a.lockout == nil },
		"lockout_seconds": func(w any) bool { return w == 0 && a.lockout == nil },
		"policy":          func(w any) bool { return w == "local" && a.shared == nil },
		"fault_tolerant": func(w any) bool {
			c := cfg
			c.Policy, c.Redis, c.MaxFailures, c.LockoutSeconds = ptr("redis"), redisstore.Config{Host: "127.0.0.1"}, 3, 60
			b, err := c.Compile()
			if err != nil {
				t.Fatal(err)
			}
			return b.shared.store.FaultTolerant() == w
		},
		// Set by this test (a config needs credentials): the zero config's
		// list is the documented [].
		"credentials": func(w any) bool {
			var zero Config
			_ = kongschema.ApplyDefaults(&zero)
			return reflect.DeepEqual(zero.Credentials, w)
		},
	}
	defaultstest.Check(t, &cfg, applied)
}
