package basicauth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/gateway/gatewaytest"
)

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestAuthenticate is one table of requests against compiled configs (the
// manner of caddy's static authenticator tests): the headers, and the
// catalog code or the identity.
func TestAuthenticate(t *testing.T) {
	alice, bob := mustHash(t, "alice-pw"), mustHash(t, "bob-pw")
	base := Config{Credentials: []Credential{{"alice", alice, "alice-consumer"}, {"bob", bob, "bob-consumer"}}}
	tests := []struct {
		name    string
		cfg     func(c *Config)
		headers []string
		ip      string
		wantErr error
		want    gateway.Identity
	}{
		{name: "right password", headers: []string{"Authorization", basicHeader("alice", "alice-pw")},
			want: gateway.Identity{Consumer: "alice-consumer", CredentialID: "alice"}},
		{name: "Proxy-Authorization first", headers: []string{"Proxy-Authorization", basicHeader("bob", "bob-pw"), "Authorization", basicHeader("alice", "x")},
			want: gateway.Identity{Consumer: "bob-consumer", CredentialID: "bob"}},
		{name: "scheme is case-insensitive", headers: []string{"Authorization", "bAsIc " + base64.StdEncoding.EncodeToString([]byte("bob:bob-pw"))},
			want: gateway.Identity{Consumer: "bob-consumer", CredentialID: "bob"}},
		{name: "wrong password", headers: []string{"Authorization", basicHeader("alice", "nope")}, wantErr: errcode.BasicInvalidCredentials},
		{name: "unknown user", headers: []string{"Authorization", basicHeader("mallory", "alice-pw")}, wantErr: errcode.BasicInvalidCredentials},
		{name: "no header", wantErr: errcode.BasicMissing},
		{name: "another scheme", headers: []string{"Authorization", "Bearer abc"}, wantErr: errcode.BasicMissing},
		{name: "not base64", headers: []string{"Authorization", "Basic !!!"}, wantErr: errcode.BasicMalformed},
		{name: "no colon", headers: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}, wantErr: errcode.BasicMalformed},
		{name: "empty user-id", headers: []string{"Authorization", basicHeader("", "pw")}, wantErr: errcode.BasicMalformed},
		{name: "not UTF-8", headers: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("j\xf6rg:pw"))}, wantErr: errcode.BasicMalformed},
		{name: "hide the header", cfg: func(c *Config) { c.HideCredentials = true }, headers: []string{"Authorization", basicHeader("alice", "alice-pw")},
			want: gateway.Identity{Consumer: "alice-consumer", CredentialID: "alice", Headers: map[string]string{"Authorization": ""}}},
		{name: "hide Proxy-Authorization", cfg: func(c *Config) { c.HideCredentials = true }, headers: []string{"Proxy-Authorization", basicHeader("bob", "bob-pw")},
			want: gateway.Identity{Consumer: "bob-consumer", CredentialID: "bob", Headers: map[string]string{"Proxy-Authorization": ""}}},
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
			k := gatewaytest.New(gatewaytest.Request{Method: "GET", Headers: gatewaytest.Headers(tt.headers...), ClientIP: tt.ip})
			id, err := a.Authenticate(k.NewRequest())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "alice-pw") || strings.Contains(err.Error(), "mallory") {
					t.Fatalf("a password or user name in the error: %v", err)
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
		})
	}
}

// With the lockout on, the client IP comes from Kong (get_forwarded_ip),
// and only the pair that failed is locked.
func TestAuthenticateLockout(t *testing.T) {
	cfg := Config{Credentials: []Credential{{"alice", mustHash(t, "alice-pw"), "c"}}, MaxFailures: 2, LockoutSeconds: 60}
	a, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	try := func(pass, ip string) (*gateway.Identity, error, *gatewaytest.Kong) {
		k := gatewaytest.New(gatewaytest.Request{Headers: gatewaytest.Headers("Authorization", basicHeader("alice", pass)), ClientIP: ip})
		id, err := a.Authenticate(k.NewRequest())
		return id, err, k
	}
	for i := 0; i < 2; i++ {
		if _, err, _ := try("guess", "198.51.100.7"); !errors.Is(err, errcode.BasicInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err, k := try("alice-pw", "198.51.100.7")
	if !errors.Is(err, errcode.BasicLockedOut) || !strings.Contains(k.CallList(), "get_forwarded_ip") {
		t.Fatalf("locked pair: %v (calls %s)", err, k.CallList())
	}
	if e := errcode.From(err); e.Field("retry_after") == nil {
		t.Fatalf("no retry_after: %v", e)
	}
	if id, err, _ := try("alice-pw", "203.0.113.9"); err != nil || id.CredentialID != "alice" {
		t.Fatalf("another client IP: %v %v", id, err)
	}
}
