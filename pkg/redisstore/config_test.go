package redisstore

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// The redis record's `default` tags (what the README and Kong's schema
// show) are the values Compile falls back to.
func TestRecordDefaultsAgree(t *testing.T) {
	var c Config
	if err := kongschema.ApplyDefaults(&c); err != nil {
		t.Fatal(err)
	}
	if *c.Port != DefaultPort || *c.TimeoutMS != DefaultTimeoutMS || *c.KeyPrefix != DefaultKeyPrefix || !*c.SSLVerify || *c.Database != 0 {
		t.Fatalf("defaults %+v disagree with DefaultPort/DefaultTimeoutMS/DefaultKeyPrefix", c)
	}
}

// A password Kong resolved from a vault reference (its "$refs" says so),
// or one still written as a reference (authkit check, offline), is not
// "a password in the config".
func TestNoPasswordWarningForVaultReferences(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		warn       bool
	}{
		{"plain", `{"host":"r","password":"p"}`, true},
		{"resolved by Kong", `{"host":"r","password":"p","$refs":{"password":"{vault://env/redis-pw}"}}`, false},
		{"a reference", `{"host":"r","password":"{vault://env/redis-pw}"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			if err := json.Unmarshal([]byte(tc.json), &c); err != nil {
				t.Fatal(err)
			}
			s, err := Compile(PolicyRedis, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, w := range s.Warnings() {
				warned = warned || strings.HasPrefix(w, "redis.password:")
			}
			if warned != tc.warn {
				t.Errorf("warnings %q, want a password warning: %v", s.Warnings(), tc.warn)
			}
		})
	}
}
