package accesstoken

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func claimsOf(t *testing.T, js string) *Claims {
	t.Helper()
	c, err := ParseClaims([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPolicyCheck(t *testing.T) {
	const (
		exp = 1_700_003_600 // t0 + 1h
		iat = 1_699_999_940 // t0 - 60s
	)
	full := PolicyOptions{
		AllowedIssuers: []string{"https://a", "https://b"}, Audiences: []string{"api"},
		AllowedClientIDs: []string{"app"}, RequiredScopes: []string{"read", "write"}, RequireExp: true,
	}
	mod := func(f func(*PolicyOptions)) PolicyOptions { o := full; f(&o); return o }
	tests := []struct {
		name    string
		opts    PolicyOptions
		claims  string
		now     time.Time
		wantErr error
	}{
		{"all good", full, `{"iss":"https://a","aud":"api","client_id":"app","scope":"read write x","exp":1700003600}`, t0, nil},
		{"second issuer", full, `{"iss":"https://b","aud":["x","api"],"client_id":"app","scope":"write read","exp":1700003600}`, t0, nil},
		{"nothing configured", PolicyOptions{}, `{}`, t0, nil},

		{"exp missing", full, `{"iss":"https://a"}`, t0, errcode.TokenMalformed},
		{"exp missing, not required", mod(func(o *PolicyOptions) { o.RequireExp = false }), `{"iss":"https://a","aud":"api","client_id":"app","scope":"read write"}`, t0, nil},
		{"expired", full, `{"exp":1700000000}`, t0, errcode.TokenExpired},
		{"expired, within leeway", mod(func(o *PolicyOptions) { o.Leeway = time.Minute }), `{"iss":"https://a","aud":"api","client_id":"app","scope":"read write","exp":1699999990}`, t0, nil},
		{"expired beyond leeway", mod(func(o *PolicyOptions) { o.Leeway = time.Minute }), `{"exp":1699999900}`, t0, errcode.TokenExpired},
		{"expired wins over issuer", full, `{"iss":"https://evil","exp":1}`, t0, errcode.TokenExpired},
		{"fractional exp", full, `{"iss":"https://a","aud":"api","client_id":"app","scope":"read write","exp":1700000000.5}`, t0, nil},
		{"nbf future", full, `{"exp":1700003600,"nbf":1700000001}`, t0, errcode.TokenNotYetValid},
		{"nbf within leeway", mod(func(o *PolicyOptions) { o.Leeway = 5 * time.Second }), `{"iss":"https://a","aud":"api","client_id":"app","scope":"read write","exp":1700003600,"nbf":1700000004}`, t0, nil},
		{"iat future", full, `{"exp":1700003600,"iat":1700000030}`, t0, errcode.TokenNotYetValid},
		{"too old", mod(func(o *PolicyOptions) { o.MaxTokenAge = 30 * time.Second }), `{"exp":1700003600,"iat":1699999940}`, t0, errcode.TokenTooOld},
		{"young enough", mod(func(o *PolicyOptions) { o.MaxTokenAge = 2 * time.Minute }), `{"iss":"https://a","aud":"api","client_id":"app","scope":"read write","exp":1700003600,"iat":1699999940}`, t0, nil},
		{"max age without iat", mod(func(o *PolicyOptions) { o.MaxTokenAge = time.Minute }), `{"exp":1700003600}`, t0, errcode.TokenMalformed},
		{"issuer trailing slash", full, `{"iss":"https://a/","exp":1700003600}`, t0, errcode.IssuerMismatch},
		{"issuer case", full, `{"iss":"https://A","exp":1700003600}`, t0, errcode.IssuerMismatch},
		{"issuer missing", full, `{"exp":1700003600}`, t0, errcode.IssuerMismatch},
		{"aud string", full, `{"iss":"https://a","aud":"other","exp":1700003600}`, t0, errcode.AudienceMismatch},
		{"aud array", full, `{"iss":"https://a","aud":["x","y"],"exp":1700003600}`, t0, errcode.AudienceMismatch},
		{"aud empty array", full, `{"iss":"https://a","aud":[],"exp":1700003600}`, t0, errcode.AudienceMismatch},
		{"aud missing", full, `{"iss":"https://a","exp":1700003600}`, t0, errcode.AudienceMismatch},
		{"client_id not allowed", full, `{"iss":"https://a","aud":"api","client_id":"evil","exp":1700003600}`, t0, errcode.ClientNotAllowed},
		{"client_id wins over azp", full, `{"iss":"https://a","aud":"api","client_id":"evil","azp":"app","exp":1700003600}`, t0, errcode.ClientNotAllowed},
		{"azp allowed", full, `{"iss":"https://a","aud":"api","azp":"app","scope":"read write","exp":1700003600}`, t0, nil},
		{"azp not allowed", full, `{"iss":"https://a","aud":"api","azp":"evil","exp":1700003600}`, t0, errcode.ClientNotAllowed},
		{"no client at all", full, `{"iss":"https://a","aud":"api","exp":1700003600}`, t0, errcode.ClientNotAllowed},
		{"scope all, one missing", full, `{"iss":"https://a","aud":"api","client_id":"app","scope":"read","exp":1700003600}`, t0, errcode.InsufficientScope},
		{"scope is case-sensitive", full, `{"iss":"https://a","aud":"api","client_id":"app","scope":"READ WRITE","exp":1700003600}`, t0, errcode.InsufficientScope},
		{"scope any, one present", mod(func(o *PolicyOptions) { o.ScopeMatch = "any" }), `{"iss":"https://a","aud":"api","client_id":"app","scope":"write","exp":1700003600}`, t0, nil},
		{"scope any, none present", mod(func(o *PolicyOptions) { o.ScopeMatch = "any" }), `{"iss":"https://a","aud":"api","client_id":"app","scope":"other","exp":1700003600}`, t0, errcode.InsufficientScope},
		{"scope missing entirely", full, `{"iss":"https://a","aud":"api","client_id":"app","exp":1700003600}`, t0, errcode.InsufficientScope},
		{"scp array", full, `{"iss":"https://a","aud":"api","client_id":"app","scp":["read","write"],"exp":1700003600}`, t0, nil},
		{"scp array missing one", full, `{"iss":"https://a","aud":"api","client_id":"app","scp":["read"],"exp":1700003600}`, t0, errcode.InsufficientScope},
		{"scp string", full, `{"iss":"https://a","aud":"api","client_id":"app","scp":"read write","exp":1700003600}`, t0, nil},
		{"scope wins over scp", full, `{"iss":"https://a","aud":"api","client_id":"app","scope":"read","scp":["read","write"],"exp":1700003600}`, t0, errcode.InsufficientScope},
		{"custom scope claim", mod(func(o *PolicyOptions) { o.ScopeClaims = []string{"permissions"} }), `{"iss":"https://a","aud":"api","client_id":"app","permissions":["read","write"],"scope":"","exp":1700003600}`, t0, nil},
		{"custom scope claim missing one", mod(func(o *PolicyOptions) { o.ScopeClaims = []string{"permissions"} }), `{"iss":"https://a","aud":"api","client_id":"app","permissions":"read","scope":"read write","exp":1700003600}`, t0, errcode.InsufficientScope},
		{"custom scope claim any", mod(func(o *PolicyOptions) { o.ScopeClaims = []string{"roles"}; o.ScopeMatch = "any" }), `{"iss":"https://a","aud":"api","client_id":"app","roles":["write"],"exp":1700003600}`, t0, nil},
		{"custom scope claim wrong type", mod(func(o *PolicyOptions) { o.ScopeClaims = []string{"roles"} }), `{"iss":"https://a","aud":"api","client_id":"app","roles":{"read":true},"exp":1700003600}`, t0, errcode.TokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.opts)
			err := p.Check(claimsOf(t, tt.claims), tt.now)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestInsufficientScopeFields(t *testing.T) {
	p := mustPolicy(t, PolicyOptions{RequiredScopes: []string{"read", "write"}})
	err := p.Check(claimsOf(t, `{"scp":["read","x"]}`), t0)
	e := errcode.From(err)
	if e.Field("required_scope") != "read write" || e.Field("token_scopes") != "read x" || e.Field("missing_scopes") != "write" {
		t.Fatalf("fields %v", maps.Collect(e.Fields()))
	}
}

func TestNewPolicyValidates(t *testing.T) {
	for _, o := range []PolicyOptions{
		{ScopeMatch: "some"}, {Leeway: -time.Second}, {MaxTokenAge: -1},
		{AllowedIssuers: []string{"a", ""}}, {Audiences: []string{""}}, {AllowedClientIDs: []string{""}},
		{RequiredScopes: []string{"a b"}}, {RequiredScopes: []string{`a"`}}, {RequiredScopes: []string{""}},
		{ScopeClaims: []string{""}},
	} {
		if _, err := NewPolicy(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	p := mustPolicy(t, PolicyOptions{})
	if o := p.Options(); o.ScopeMatch != ScopeMatchAll || len(o.ScopeClaims) != 2 {
		t.Errorf("defaults: %+v", o)
	}
}
