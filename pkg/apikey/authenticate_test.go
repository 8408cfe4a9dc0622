package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/gateway/gatewaytest"
)

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(h[:])
}

// TestAuthenticate is one table of requests against compiled configs (the
// manner of caddy's static authenticator tests): where the key is, and the
// catalog code or the identity.
func TestAuthenticate(t *testing.T) {
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	base := Config{Credentials: []Credential{
		{ID: "alice-1", Consumer: "alice", KeyHash: keyHash("alice-key")},
		{ID: "alice-2", Consumer: "alice", KeyHash: keyHash("alice-new-key"), ExpiresAt: future},
		{ID: "bob-old", Consumer: "bob", KeyHash: keyHash("bob-old-key"), ExpiresAt: past},
	}}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name    string
		cfg     func(c *Config)
		req     gatewaytest.Request
		wantErr error
		want    gateway.Identity
		query   *string // the upstream query, with hide_credentials
		body    string  // the upstream body, with hide_credentials
	}{
		{name: "header", req: gatewaytest.Request{Headers: gatewaytest.Headers("apikey", "alice-key")}, want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1"}},
		{name: "query", req: gatewaytest.Request{RawQuery: "apikey=alice-key"}, want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1"}},
		{name: "rotation: the new key too", req: gatewaytest.Request{Headers: gatewaytest.Headers("apikey", "alice-new-key")},
			want: gateway.Identity{Consumer: "alice", CredentialID: "alice-2"}},
		{name: "expired", req: gatewaytest.Request{Headers: gatewaytest.Headers("apikey", "bob-old-key")}, wantErr: errcode.APIKeyExpired},
		{name: "unknown key", req: gatewaytest.Request{Headers: gatewaytest.Headers("apikey", "guess")}, wantErr: errcode.APIKeyInvalid},
		{name: "no key", req: gatewaytest.Request{Headers: gatewaytest.Headers("x-other", "alice-key")}, wantErr: errcode.APIKeyMissing},
		{name: "header and query", req: gatewaytest.Request{Headers: gatewaytest.Headers("apikey", "alice-key"), RawQuery: "apikey=alice-key"},
			wantErr: errcode.APIKeyDuplicate},
		{name: "query off", cfg: func(c *Config) { c.KeyInQuery = new(bool) }, req: gatewaytest.Request{RawQuery: "apikey=alice-key"},
			wantErr: errcode.APIKeyMissing},
		{name: "other key names", cfg: func(c *Config) { c.KeyNames = []string{"x-api-key"} },
			req: gatewaytest.Request{Headers: gatewaytest.Headers("x-api-key", "alice-key")}, want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1"}},
		{name: "body off by default", req: gatewaytest.Request{Method: "POST", Headers: gatewaytest.Headers("Content-Type", form), Body: []byte("apikey=alice-key")},
			wantErr: errcode.APIKeyMissing},
		{name: "form body", cfg: func(c *Config) { c.KeyInBody = true },
			req:  gatewaytest.Request{Method: "POST", Headers: gatewaytest.Headers("Content-Type", form), Body: []byte("apikey=alice-key")},
			want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1"}},
		{name: "JSON member not a string", cfg: func(c *Config) { c.KeyInBody = true },
			req:     gatewaytest.Request{Method: "POST", Headers: gatewaytest.Headers("Content-Type", "application/json"), Body: []byte(`{"apikey":42}`)},
			wantErr: errcode.APIKeyInvalid},
		{name: "hide the header", cfg: func(c *Config) { c.HideCredentials = true }, req: gatewaytest.Request{Headers: gatewaytest.Headers("apikey", "alice-key")},
			want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1", Headers: map[string]string{"apikey": ""}}},
		{name: "hide the query parameter", cfg: func(c *Config) { c.HideCredentials = true }, req: gatewaytest.Request{RawQuery: "a=1&apikey=alice-key&b=2"},
			want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1"}, query: ptr("a=1&b=2")},
		{name: "hide the body parameter", cfg: func(c *Config) { c.HideCredentials, c.KeyInBody = true, true },
			req:  gatewaytest.Request{Method: "POST", Headers: gatewaytest.Headers("Content-Type", form), Body: []byte("x=1&apikey=alice-key")},
			want: gateway.Identity{Consumer: "alice", CredentialID: "alice-1"}, body: "x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			a, err := cfg.Compile()
			if err != nil {
				t.Fatal(err)
			}
			id, err := a.Authenticate(gatewaytest.New(tt.req).NewRequest())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Consumer != tt.want.Consumer || id.CredentialID != tt.want.CredentialID || len(id.Headers) != len(tt.want.Headers) {
				t.Fatalf("identity %+v, want %+v", id, tt.want)
			}
			for h, v := range tt.want.Headers {
				if got, ok := id.Headers[h]; !ok || got != v {
					t.Fatalf("headers %v, want %v", id.Headers, tt.want.Headers)
				}
			}
			if (tt.query == nil) != (id.RawQuery == nil) || tt.query != nil && *tt.query != *id.RawQuery {
				t.Fatalf("upstream query %v, want %v", id.RawQuery, tt.query)
			}
			if string(id.Body) != tt.body {
				t.Fatalf("upstream body %q, want %q", id.Body, tt.body)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
