package oauth

import (
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
)

func ptr[T any](v T) *T { return &v }

func TestCompileErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "at least one is required"},
		{"bad mode", Config{Issuer: "https://i.example", TokenMode: ptr("magic")}, "token_mode"},
		{"relative issuer", Config{Issuer: "/realms/x"}, "issuer: must be an absolute http(s) URL"},
		{"issuer without host", Config{Issuer: "https://?x"}, "issuer: \"https://?x\" is not an absolute"},
		{"issuer with query", Config{Issuer: "https://i.example/?x=1"}, "must not have a query"},
		{"bad jwks_uri", Config{JWKSURI: "ftp://x/jwks", AllowedIssuers: []string{"https://i"}}, "jwks_uri"},
		{"jwt mode without keys", Config{TokenMode: ptr("jwt"), IntrospectionEndpoint: "https://i/introspect"}, "token_mode jwt"},
		{"introspection mode without endpoint", Config{TokenMode: ptr("introspection"), JWKSURI: "https://i/jwks", AllowedIssuers: []string{"x"}}, "token_mode introspection"},
		{"static keys without issuers", Config{StaticJWKS: `{"keys":[]}`}, "allowed_issuers"},
		{"static jwks malformed", Config{StaticJWKS: `{"keys":[{"kty":"RSA","n":"!"}]}`, AllowedIssuers: []string{"x"}}, "static_jwks"},
		{"alg none", Config{Issuer: "https://i.example", AllowedAlgorithms: []string{"none"}}, "allowed_algorithms[0]: expected one of: ES256"},
		{"alg unknown", Config{Issuer: "https://i.example", AllowedAlgorithms: []string{"RS257"}}, "allowed_algorithms[0]: expected one of"},
		{"negative leeway", Config{Issuer: "https://i.example", LeewaySeconds: ptr(-1)}, "leeway_seconds"},
		{"zero timeout", Config{Issuer: "https://i.example", HTTPTimeoutMS: ptr(0)}, "http_timeout_ms"},
		{"scope match", Config{Issuer: "https://i.example", ScopeMatch: ptr("some")}, "scope_match"},
		{"consumer_by", Config{Issuer: "https://i.example", ConsumerBy: ptr("email")}, "consumer_by"},
		{"claims_to_headers", Config{Issuer: "https://i.example", ClaimsToHeaders: map[string]string{"sub": "Bad Header"}}, "claims_to_headers"},
		{"claim to Host", Config{Issuer: "https://i.example", ClaimsToHeaders: map[string]string{"aud": "host"}}, "cannot carry a claim"},
		{"claim to identity header", Config{Issuer: "https://i.example", ClaimsToHeaders: map[string]string{"sub": "X-Consumer-Username"}}, "cannot carry a claim"},
		{"log level", Config{Issuer: "https://i.example", LogLevel: ptr("chatty")}, "log_level"},
		{"auth method", Config{IntrospectionEndpoint: "https://i/introspect", IntrospectionClientID: "g", IntrospectionAuthMethod: ptr("private_key_jwt")}, "introspection_auth_method"},
		{"introspection without client", Config{IntrospectionEndpoint: "https://i/introspect"}, "introspection_client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Compile()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestCompileDefaults(t *testing.T) {
	a, err := (&Config{Issuer: "https://issuer.example"}).Compile()
	if err != nil {
		t.Fatal(err)
	}
	if a.mode != ModeAuto || a.verifier == nil || a.intro != nil || a.introLazy != nil || a.timeout.Milliseconds() != 3000 || !a.policy.RunOnPreflight {
		t.Fatalf("defaults: %+v", a)
	}
	// auto mode with the gateway's credentials: introspection by discovery.
	a, err = (&Config{Issuer: "https://issuer.example", IntrospectionClientID: "gw"}).Compile()
	if err != nil || a.introLazy == nil {
		t.Fatalf("introspection by discovery: %v %+v", err, a)
	}
	if s := (&Config{IntrospectionClientSecret: "hunter2"}).String(); strings.Contains(s, "hunter2") {
		t.Fatal("String leaks the secret")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for tok, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": true,
		"ory_at_abc.def":              false,
		"a.b.c":                       false,
		"eyJ0eXAiOiJKV1QifQ.e30.sig":  false, // no alg
		"opaque":                      false,
		"eyJhbGciOiJub25lIn0.e30.":    true,
		"eyJhbGciOiJub25lIn0.e30.x.y": false,
	} {
		if got := looksLikeJWT(tok); got != want {
			t.Errorf("looksLikeJWT(%q) = %v", tok, got)
		}
	}
}

func TestClaimString(t *testing.T) {
	tests := []struct {
		in   any
		want string
		ok   bool
	}{
		{"x", "x", true}, {"", "", false}, {nil, "", false}, {true, "true", true}, {float64(42), "42", true},
		{1.5, "1.5", true}, {[]any{"a", "b"}, "a b", true}, {[]any{"a", map[string]any{}}, "a", true},
		{[]any{[]any{"x"}}, "", false}, {map[string]any{"a": 1}, "", false},
	}
	for _, tt := range tests {
		if got, ok := claimString(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("claimString(%v) = %q %v", tt.in, got, ok)
		}
	}
}

// A claim with a control character removes its header instead of being
// trimmed into another value (issue 11: sanitise token-derived headers).
func TestUpstreamHeadersDropUnsafeClaims(t *testing.T) {
	a := &Authenticator{claimsToHdr: map[string]string{"name": "X-User-Name", "email": "X-User-Email"}}
	c, err := accesstoken.ClaimsFromMap(map[string]any{"sub": "alice\r", "scope": "read\x01admin", "name": "Alice", "email": "alice@example.test\r\nX-Admin: true"})
	if err != nil {
		t.Fatal(err)
	}
	h := a.upstreamHeaders(c)
	want := map[string]string{HeaderSubject: "", HeaderScope: "", "X-User-Name": "Alice", "X-User-Email": ""}
	for k, v := range want {
		if got, ok := h[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
}
