package oauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/internal/testkeys"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/gateway/gatewaytest"
)

const testIssuer = "https://idp.example"

// staticJWKS is the JWKS document of key under kid (RS256).
func staticJWKS(key *rsa.PrivateKey, kid string) string {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	doc, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	return string(doc)
}

// token signs claims (iss, aud, exp, iat default to a valid token of the
// test issuer) with key under kid.
func token(t *testing.T, key any, method jwt.SigningMethod, kid string, claims jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": testIssuer, "aud": "https://api.example", "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "sub": "alice", "jti": "jti-1", "scope": "read write", "client_id": "web"}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verificationTest is one request to a compiled config, in the manner of
// go-oidc's verificationTest tables: the config, the request, and either
// the catalog code the request is refused with or what the identity holds.
type verificationTest struct {
	name    string
	cfg     func(c *Config)
	req     gatewaytest.Request
	wantErr error
	want    func(t *testing.T, id *gateway.Identity)
}

func (v verificationTest) run(t *testing.T, base Config) {
	t.Run(v.name, func(t *testing.T) {
		cfg := base
		if v.cfg != nil {
			v.cfg(&cfg)
		}
		a, err := cfg.Compile()
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		id, err := a.Authenticate(gatewaytest.New(v.req).NewRequest())
		switch {
		case v.wantErr != nil && !errors.Is(err, v.wantErr):
			t.Fatalf("err = %v, want %v", err, v.wantErr)
		case v.wantErr == nil && err != nil:
			t.Fatalf("refused: %v", err)
		case v.want != nil:
			v.want(t, id)
		}
	})
}

func withBearer(tok string) gatewaytest.Request {
	return gatewaytest.Request{Method: "GET", Headers: gatewaytest.Headers("Authorization", "Bearer "+tok)}
}

func TestAuthenticateJWT(t *testing.T) {
	key, other := testkeys.RSA(t, "a", 2048), testkeys.RSA(t, "b", 2048)
	base := Config{Issuer: testIssuer, StaticJWKS: staticJWKS(key, "k1"), TokenMode: ptr(ModeJWT), Audiences: []string{"https://api.example"}}
	good := token(t, key, jwt.SigningMethodRS256, "k1", nil)
	with := func(c jwt.MapClaims) string { return token(t, key, jwt.SigningMethodRS256, "k1", c) }
	hour := time.Hour

	tests := []verificationTest{
		{name: "valid", req: withBearer(good), want: func(t *testing.T, id *gateway.Identity) {
			if id.CredentialID != "jti-1" || id.Headers[HeaderSubject] != "alice" || id.Headers[HeaderScope] != "read write" || id.Consumer != "" {
				t.Fatalf("identity %+v", id)
			}
			if _, hidden := id.Headers["Authorization"]; hidden {
				t.Fatal("hide_credentials is off")
			}
		}},
		{name: "no token", req: gatewaytest.Request{Method: "GET"}, wantErr: errcode.TokenMissing},
		{name: "another scheme", req: gatewaytest.Request{Headers: gatewaytest.Headers("Authorization", "Basic YTpi")}, wantErr: errcode.TokenMissing},
		{name: "two words", req: gatewaytest.Request{Headers: gatewaytest.Headers("Authorization", "Bearer a b")}, wantErr: errcode.RequestInvalid},
		{name: "header and query", cfg: func(c *Config) { c.TokenQueryParam = "access_token" },
			req: gatewaytest.Request{Headers: gatewaytest.Headers("Authorization", "Bearer "+good), RawQuery: "access_token=" + good}, wantErr: errcode.RequestInvalid},
		{name: "opaque token in jwt mode", req: withBearer("ory_at_opaque"), wantErr: errcode.TokenMalformed},
		{name: "expired", req: withBearer(with(jwt.MapClaims{"exp": time.Now().Add(-hour).Unix()})), wantErr: errcode.TokenExpired},
		{name: "expired within leeway", req: withBearer(with(jwt.MapClaims{"exp": time.Now().Add(-10 * time.Second).Unix()}))},
		{name: "no exp", req: withBearer(with(jwt.MapClaims{"exp": nil})), wantErr: errcode.TokenMalformed},
		{name: "not yet valid", req: withBearer(with(jwt.MapClaims{"nbf": time.Now().Add(hour).Unix()})), wantErr: errcode.TokenNotYetValid},
		{name: "too old", cfg: func(c *Config) { c.MaxTokenAgeSeconds = 60 },
			req: withBearer(with(jwt.MapClaims{"iat": time.Now().Add(-hour).Unix()})), wantErr: errcode.TokenTooOld},
		{name: "other issuer", req: withBearer(with(jwt.MapClaims{"iss": "https://evil.example"})), wantErr: errcode.IssuerMismatch},
		{name: "allowed_issuers replaces issuer", cfg: func(c *Config) { c.AllowedIssuers = []string{"https://other.example"} },
			req: withBearer(good), wantErr: errcode.IssuerMismatch},
		{name: "other audience", req: withBearer(with(jwt.MapClaims{"aud": "https://other-api.example"})), wantErr: errcode.AudienceMismatch},
		{name: "signed by another key", req: withBearer(token(t, other, jwt.SigningMethodRS256, "k1", nil)), wantErr: errcode.SignatureInvalid},
		{name: "unknown kid", req: withBearer(token(t, key, jwt.SigningMethodRS256, "k9", nil)), wantErr: errcode.KeyNotFound},
		{name: "algorithm not allowed", cfg: func(c *Config) { c.AllowedAlgorithms = []string{"ES256"} },
			req: withBearer(good), wantErr: errcode.AlgorithmNotAllowed},
		{name: "HS256 with the RSA public key as secret", req: withBearer(token(t, []byte("not-the-key"), jwt.SigningMethodHS256, "k1", nil)),
			wantErr: errcode.AlgorithmNotAllowed},
		{name: "typ required", cfg: func(c *Config) { c.RequireTypATJWT = true }, req: withBearer(good), wantErr: errcode.TokenTypeInvalid},
		{name: "all scopes required", cfg: func(c *Config) { c.RequiredScopes = []string{"read", "admin"} }, req: withBearer(good), wantErr: errcode.InsufficientScope},
		{name: "any scope", cfg: func(c *Config) { c.RequiredScopes, c.ScopeMatch = []string{"read", "admin"}, ptr(accessAny) }, req: withBearer(good)},
		{name: "client not allowed", cfg: func(c *Config) { c.AllowedClientIDs = []string{"mobile"} }, req: withBearer(good), wantErr: errcode.ClientNotAllowed},
		{name: "refresh token by token_use", req: withBearer(with(jwt.MapClaims{"token_use": "refresh"})), wantErr: errcode.TokenTypeInvalid},
		{name: "consumer by username", cfg: func(c *Config) { c.ConsumerClaim = "sub" }, req: withBearer(good),
			want: func(t *testing.T, id *gateway.Identity) {
				if id.Consumer != "alice" || id.ConsumerOptional || id.Virtual != nil {
					t.Fatalf("identity %+v", id)
				}
			}},
		{name: "consumer by custom_id", cfg: func(c *Config) { c.ConsumerClaim, c.ConsumerBy = "client_id", ptr("custom_id") }, req: withBearer(good),
			want: func(t *testing.T, id *gateway.Identity) {
				if id.Virtual == nil || id.Virtual.CustomID != "web" || id.Consumer != "" {
					t.Fatalf("identity %+v", id)
				}
			}},
		{name: "consumer claim missing", cfg: func(c *Config) { c.ConsumerClaim = "email" }, req: withBearer(good), wantErr: errcode.ClaimMismatch},
		{name: "consumer claim missing, optional", cfg: func(c *Config) { c.ConsumerClaim, c.ConsumerOptional = "email", true }, req: withBearer(good),
			want: func(t *testing.T, id *gateway.Identity) {
				if id.Consumer != "" {
					t.Fatalf("identity %+v", id)
				}
			}},
		{name: "consumer claim with a control character", cfg: func(c *Config) { c.ConsumerClaim = "sub" },
			req: withBearer(with(jwt.MapClaims{"sub": "alice\r"})), wantErr: errcode.ClaimMismatch},
		{name: "no jti: sub identifies", req: withBearer(with(jwt.MapClaims{"jti": nil})), want: func(t *testing.T, id *gateway.Identity) {
			if id.CredentialID != "alice" {
				t.Fatalf("credential %q", id.CredentialID)
			}
		}},
		{name: "no jti nor sub: the fingerprint", req: withBearer(with(jwt.MapClaims{"jti": nil, "sub": nil})), want: func(t *testing.T, id *gateway.Identity) {
			if !strings.HasPrefix(id.CredentialID, "token:") {
				t.Fatalf("credential %q", id.CredentialID)
			}
		}},
		{name: "claims to headers", cfg: func(c *Config) { c.ClaimsToHeaders = map[string]string{"client_id": "X-Client", "email": "X-Email"} },
			req: withBearer(good), want: func(t *testing.T, id *gateway.Identity) {
				if v, ok := id.Headers["X-Email"]; id.Headers["X-Client"] != "web" || !ok || v != "" {
					t.Fatalf("headers %v", id.Headers)
				}
			}},
		{name: "hide the header", cfg: func(c *Config) { c.HideCredentials = true }, req: withBearer(good), want: func(t *testing.T, id *gateway.Identity) {
			if v, ok := id.Headers["Authorization"]; !ok || v != "" {
				t.Fatalf("headers %v", id.Headers)
			}
		}},
		{name: "hide the query token", cfg: func(c *Config) { c.HideCredentials, c.TokenQueryParam = true, "access_token" },
			req: gatewaytest.Request{RawQuery: "a=1&access_token=" + good + "&b=2"}, want: func(t *testing.T, id *gateway.Identity) {
				if id.RawQuery == nil || *id.RawQuery != "a=1&b=2" {
					t.Fatalf("query %v", id.RawQuery)
				}
			}},
		{name: "hide the cookie", cfg: func(c *Config) { c.HideCredentials, c.TokenCookie = true, "at" },
			req: gatewaytest.Request{Headers: gatewaytest.Headers("Cookie", "theme=dark; at="+good)}, want: func(t *testing.T, id *gateway.Identity) {
				if id.Headers["Cookie"] != "theme=dark" {
					t.Fatalf("cookie %q", id.Headers["Cookie"])
				}
			}},
	}
	for _, tt := range tests {
		tt.run(t, base)
	}
}

const accessAny = "any"

// introspector answers RFC 7662 requests from a map token → answer.
func introspector(t *testing.T, answers map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "gateway" || p != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		_ = r.ParseForm()
		ans, ok := answers[r.PostForm.Get("token")]
		if !ok {
			ans = `{"active":false}`
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(ans))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAuthenticateIntrospection(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	srv := introspector(t, map[string]string{
		"ory_at_good":    `{"active":true,"iss":"` + testIssuer + `","sub":"alice","client_id":"web","scope":"read","exp":` + itoa(exp) + `,"token_type":"Bearer"}`,
		"ory_rt_refresh": `{"active":true,"iss":"` + testIssuer + `","sub":"alice","token_use":"refresh_token","exp":` + itoa(exp) + `}`,
		"weird":          `{"active":"true"}`,
	})
	base := Config{IntrospectionEndpoint: srv.URL, IntrospectionClientID: "gateway", IntrospectionClientSecret: "s3cret",
		AllowedIssuers: []string{testIssuer}, IntrospectionCacheTTLSeconds: ptr(0), IntrospectionNegativeTTLSeconds: ptr(0)}
	tests := []verificationTest{
		{name: "active", req: withBearer("ory_at_good"), want: func(t *testing.T, id *gateway.Identity) {
			if id.CredentialID != "alice" || id.Headers[HeaderScope] != "read" {
				t.Fatalf("identity %+v", id)
			}
		}},
		{name: "inactive", req: withBearer("ory_at_revoked"), wantErr: errcode.TokenInactive},
		{name: "a refresh token", req: withBearer("ory_rt_refresh"), wantErr: errcode.TokenTypeInvalid},
		{name: "active is not a boolean", req: withBearer("weird"), wantErr: errcode.ProviderInvalidResp},
		{name: "scope required", cfg: func(c *Config) { c.RequiredScopes = []string{"write"} }, req: withBearer("ory_at_good"), wantErr: errcode.InsufficientScope},
		{name: "the gateway's secret refused", cfg: func(c *Config) { c.IntrospectionClientSecret = "wrong" }, req: withBearer("ory_at_good"),
			wantErr: errcode.ProviderClientAuthFail},
	}
	for _, tt := range tests {
		tt.run(t, base)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
