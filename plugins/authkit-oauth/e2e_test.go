package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/oauth"
)

const userID = "5f8a6e3c-0d6b-4c3e-8f5e-3b1f2a9c7d10"

func startPlugin(t *testing.T) *kongwire.Server {
	t.Helper()
	s := kongwire.Start(t, kongwire.Build(t, "authkit-oauth"))
	s.SetConsumers(kongwire.Consumer{ID: userID, Username: "user-1"}, kongwire.Consumer{ID: "0b9e8d7c-6f5a-4b3c-9d2e-1f0a9b8c7d6e", Username: "anonymous"})
	return s
}

func bearerReq(token string, extra ...string) *kongwire.Request {
	r := &kongwire.Request{Method: "GET", Path: "/api", Headers: http.Header{}}
	if token != "" {
		r.Headers.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Headers.Add(extra[i], extra[i+1])
	}
	return r
}

// refused checks status, body code, challenge, the single log line (which
// must never contain the token) and the serialize value.
func refused(t *testing.T, res *kongwire.Result, token string, status int, code string, logHas ...string) {
	t.Helper()
	line := kongwire.CheckRefusal(t, res, "authkit-oauth", status, code)
	ch := res.Header("WWW-Authenticate")
	switch {
	case status == 401 && code == "OAUTH_TOKEN_MISSING":
		if ch != `Bearer realm="api"` {
			t.Fatalf("challenge %q", ch)
		}
	case status == 401 || status == 403 || status == 400:
		if !strings.Contains(ch, `error_code="`+code+`"`) || !strings.HasPrefix(ch, "Bearer ") {
			t.Fatalf("challenge %q lacks the code", ch)
		}
	default:
		if ch != "" {
			t.Fatalf("a %d carries no challenge: %q", status, ch)
		}
	}
	if token != "" && strings.Contains(line, token) {
		t.Fatal("the token leaked into the log")
	}
	for _, want := range logHas {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q: %s", want, line)
		}
	}
}

func accepted(t *testing.T, res *kongwire.Result) {
	t.Helper()
	if res.Exited || res.Err != nil || !res.Authenticated {
		t.Fatalf("refused: %d %s %v", res.Status, res.Body, res.Logs)
	}
}

func TestSchemaAsKongSeesIt(t *testing.T) {
	info := kongwire.Dump(t, kongwire.Build(t, "authkit-oauth"))
	kongwire.CheckSchema(t, info, kongwire.JSONTags(oauth.Config{}))
}

func baseCfg(p *fakeProvider, kv ...any) map[string]any {
	c := map[string]any{"issuer": p.issuer(), "audiences": []any{"https://api.example.test"}, "realm": "api", "token_mode": "jwt"}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func TestJWTEveryKeyType(t *testing.T) {
	rsaK, ecK, edK := newRSA(t, "rsa-1"), newEC(t, "ec-1"), newEd(t, "ed-1")
	p := newProvider(t, rsaK, ecK, edK)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "consumer_claim", "sub", "claims_to_headers", map[string]any{"client_id": "X-Client-Id", "aud": "X-Audience"}))
	for _, k := range []*signer{rsaK, ecK, edK} {
		t.Run(k.alg, func(t *testing.T) {
			res := inst.Access(t, bearerReq(k.mint(t, claims(p.issuer()))))
			accepted(t, res)
			h := res.UpstreamHeaders
			if res.AuthConsumer.ID != userID || h.Get("X-Consumer-Username") != "user-1" || h.Get("X-Client-Id") != "web-app" ||
				h.Get("X-Audience") != "https://api.example.test" || h.Get("X-Authenticated-Scope") != "read write" || !strings.HasPrefix(h.Get("X-Credential-Identifier"), "jti-") {
				t.Fatalf("upstream %v consumer %+v", h, res.AuthConsumer)
			}
		})
	}
	if n := p.jwksFetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for three tokens, want 1", n)
	}
}

func TestJWTRefusals(t *testing.T) {
	k := newRSA(t, "rsa-1")
	other := newRSA(t, "rsa-1") // same kid, other key
	p := newProvider(t, k)
	iss := p.issuer()
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "max_token_age_seconds", 3600, "required_scopes", []any{"read", "admin"},
		"allowed_client_ids", []any{"web-app"}))
	anyInst := startPlugin(t).StartInstance(t, baseCfg(p, "required_scopes", []any{"admin", "write"}, "scope_match", "any"))
	now := time.Now()
	ok := func(kv ...any) string { return k.mint(t, claims(iss, append([]any{"scope", "read admin"}, kv...)...)) }

	rsaPub := k.key.Public().(*rsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(rsaPub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(iss, "scope", "read admin"))
	hs.Header["kid"] = "rsa-1"
	confused, _ := hs.SignedString(pemKey)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"rsa-1"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"iss":%q,"exp":%d}`, iss, now.Add(time.Hour).Unix()))) + "."
	good := ok()
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"sub":"user-1"`, `"sub":"admin"`, 1))) + "." + parts[2]

	tests := []struct {
		name   string
		inst   *kongwire.Instance
		req    *kongwire.Request
		status int
		code   string
		logHas []string
	}{
		{"missing", inst, bearerReq(""), 401, "OAUTH_TOKEN_MISSING", nil},
		{"expired", inst, bearerReq(ok("exp", now.Add(-time.Hour).Unix())), 401, "OAUTH_TOKEN_EXPIRED", nil},
		{"not yet valid", inst, bearerReq(ok("nbf", now.Add(time.Hour).Unix())), 401, "OAUTH_TOKEN_NOT_YET_VALID", nil},
		{"too old", inst, bearerReq(ok("iat", now.Add(-2*time.Hour).Unix())), 401, "OAUTH_TOKEN_TOO_OLD", nil},
		{"wrong issuer", inst, bearerReq(ok("iss", "https://evil.example")), 401, "OAUTH_ISSUER_MISMATCH", []string{"https://evil.example", iss}},
		{"wrong audience string", inst, bearerReq(ok("aud", "https://other.example")), 401, "OAUTH_AUDIENCE_MISMATCH", []string{"https://other.example", "https://api.example.test"}},
		{"wrong audience array", inst, bearerReq(ok("aud", []string{"a", "b"})), 401, "OAUTH_AUDIENCE_MISMATCH", nil},
		{"missing scope (all)", inst, bearerReq(ok("scope", "read")), 403, "OAUTH_INSUFFICIENT_SCOPE", []string{"admin"}},
		{"missing scope (any)", anyInst, bearerReq(k.mint(t, claims(iss, "scope", "read"))), 403, "OAUTH_INSUFFICIENT_SCOPE", nil},
		{"client not allowed", inst, bearerReq(ok("client_id", "mobile-app")), 401, "OAUTH_CLIENT_NOT_ALLOWED", []string{"mobile-app"}},
		{"bad signature", inst, bearerReq(other.mint(t, claims(iss, "scope", "read admin"))), 401, "OAUTH_SIGNATURE_INVALID", nil},
		{"tampered payload", inst, bearerReq(tampered), 401, "OAUTH_SIGNATURE_INVALID", nil},
		{"alg none", inst, bearerReq(none), 401, "OAUTH_ALGORITHM_NOT_ALLOWED", []string{"none"}},
		{"HS256 with the RSA public key", inst, bearerReq(confused), 401, "OAUTH_ALGORITHM_NOT_ALLOWED", []string{"HS256"}},
		{"not a JWT", inst, bearerReq("opaque-abc"), 401, "OAUTH_TOKEN_MALFORMED", nil},
		{"basic scheme", inst, bearerReq("", "Authorization", "Basic dXNlcjpwdw=="), 401, "OAUTH_TOKEN_MISSING", []string{`Basic`}},
		{"too large", inst, bearerReq(strings.Repeat("a", 9000)), 401, "OAUTH_TOKEN_MALFORMED", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := strings.TrimPrefix(tt.req.Headers.Get("Authorization"), "Bearer ")
			refused(t, tt.inst.Access(t, tt.req), tok, tt.status, tt.code, tt.logHas...)
		})
	}
	t.Run("two Authorization headers", func(t *testing.T) {
		// nginx answers 400 itself; the plugin never sees them (two
		// tokens in one request are refused by the plugin when one comes
		// from the query or a cookie: TestHideCredentialsQueryAndCookie).
		res := inst.Access(t, bearerReq(good, "Authorization", "Bearer "+good))
		if !res.RejectedByNginx || res.Status != 400 || len(res.Calls) != 0 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("scope challenge", func(t *testing.T) {
		res := inst.Access(t, bearerReq(ok("scope", "read")))
		if ch := res.Header("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="read admin"`) {
			t.Fatalf("challenge %q", ch)
		}
	})
	accepted(t, inst.Access(t, bearerReq(good)))
}

func TestTypAtJWT(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "require_typ_at_jwt", true))
	refused(t, inst.Access(t, bearerReq(k.mint(t, claims(p.issuer()), "typ", "JWT"))), "", 401, "OAUTH_TOKEN_TYPE_INVALID")
	accepted(t, inst.Access(t, bearerReq(k.mint(t, claims(p.issuer()), "typ", "at+jwt"))))
}

func TestKeyRotationAndUnknownKid(t *testing.T) {
	old, next := newRSA(t, "2025"), newRSA(t, "2026")
	p := newProvider(t, old)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "jwks_min_refresh_seconds", 1))
	accepted(t, inst.Access(t, bearerReq(old.mint(t, claims(p.issuer())))))
	refused(t, inst.Access(t, bearerReq(next.mint(t, claims(p.issuer())))), "", 401, "OAUTH_KEY_NOT_FOUND", "2026")

	// The provider rotates: the new kid is fetched once and accepted.
	p.set(func(p *fakeProvider) { p.keys = append(p.keys, next) })
	time.Sleep(1100 * time.Millisecond) // jwks_min_refresh_seconds
	before := p.jwksFetches.Load()
	for i := 0; i < 5; i++ {
		accepted(t, inst.Access(t, bearerReq(next.mint(t, claims(p.issuer())))))
	}
	if got := p.jwksFetches.Load() - before; got != 1 {
		t.Fatalf("%d fetches after rotation, want 1", got)
	}
	accepted(t, inst.Access(t, bearerReq(old.mint(t, claims(p.issuer())))))
}

func TestProviderDown(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	s := startPlugin(t)
	inst := s.StartInstance(t, baseCfg(p, "jwks_min_refresh_seconds", 0))
	tok := k.mint(t, claims(p.issuer()))
	accepted(t, inst.Access(t, bearerReq(tok)))
	p.srv.Close()
	// Keys cached: still accepted (a new token, so the token cache is not what answers).
	accepted(t, inst.Access(t, bearerReq(k.mint(t, claims(p.issuer())))))

	// An unknown kid makes the plugin refetch; the fetch fails (the
	// provider is down): that request is refused with the provider's code,
	// and the next valid one is accepted from the kept keys with one warn
	// line saying so — once, not on every request.
	refused(t, inst.Access(t, bearerReq(newRSA(t, "unknown").mint(t, claims(p.issuer())))), "", 503, "OAUTH_PROVIDER_UNREACHABLE")
	warned := 0
	for i := 0; i < 3; i++ {
		res := inst.Access(t, bearerReq(k.mint(t, claims(p.issuer()))))
		accepted(t, res)
		for _, l := range res.AuthkitLines() {
			if l != "" && strings.Contains(l, `"outcome":"accepted"`) && strings.Contains(l, "OAUTH_PROVIDER_UNREACHABLE") {
				warned++
			}
		}
		for _, l := range res.Logs {
			if strings.Contains(l.Message, `"outcome":"accepted"`) && l.Level != "warn" {
				t.Fatalf("stale-key warning at %s", l.Level)
			}
		}
	}
	if warned != 1 {
		t.Fatalf("%d stale-key warnings for one failed fetch, want 1", warned)
	}

	down := s.StartInstance(t, map[string]any{"issuer": closedURL(t), "token_mode": "jwt", "http_timeout_ms": 500})
	refused(t, down.Access(t, bearerReq(tok)), tok, 503, "OAUTH_PROVIDER_UNREACHABLE")
}

func TestJWKSInvalid(t *testing.T) {
	for _, mode := range []string{"html", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			k := newRSA(t, "k")
			p := newProvider(t, k)
			p.set(func(p *fakeProvider) { p.jwksMode = mode })
			tok := k.mint(t, claims(p.issuer()))
			refused(t, startPlugin(t).StartInstance(t, baseCfg(p)).Access(t, bearerReq(tok)), tok, 502, "OAUTH_PROVIDER_INVALID_RESPONSE")
		})
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	p.set(func(p *fakeProvider) { p.discIssuer = "https://someone-else.example" })
	tok := k.mint(t, claims(p.issuer()))
	refused(t, startPlugin(t).StartInstance(t, baseCfg(p)).Access(t, bearerReq(tok)), tok, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", "someone-else")
}

func TestStaticJWKSAndHMAC(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	jwks := fmt.Sprintf(`{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":%q}]}`, base64.RawURLEncoding.EncodeToString(secret))
	inst := startPlugin(t).StartInstance(t, map[string]any{"static_jwks": jwks, "allowed_issuers": []any{"https://issuer.example"}, "allowed_algorithms": []any{"HS256"}})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("https://issuer.example"))
	tok.Header["kid"] = "h1"
	s, _ := tok.SignedString(secret)
	accepted(t, inst.Access(t, bearerReq(s)))
}

func TestHideCredentialsQueryAndCookie(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "hide_credentials", true, "token_query_param", "access_token", "token_cookie", "at"))
	tok := k.mint(t, claims(p.issuer()))
	res := inst.Access(t, bearerReq(tok))
	accepted(t, res)
	if _, ok := res.UpstreamHeaders["Authorization"]; ok {
		t.Fatal("Authorization reached the upstream")
	}
	q := &kongwire.Request{Method: "GET", Path: "/api", RawQuery: "a=1&access_token=" + tok, Headers: http.Header{}}
	res = inst.Access(t, q)
	accepted(t, res)
	if res.UpstreamQuery != "a=1" {
		t.Fatalf("upstream query %q", res.UpstreamQuery)
	}
	c := bearerReq("", "Cookie", "theme=dark; at="+tok)
	res = inst.Access(t, c)
	accepted(t, res)
	if res.UpstreamHeaders.Get("Cookie") != "theme=dark" {
		t.Fatalf("upstream cookie %q", res.UpstreamHeaders.Get("Cookie"))
	}
	both := &kongwire.Request{Method: "GET", Path: "/api", RawQuery: "access_token=" + tok, Headers: http.Header{"Authorization": {"Bearer " + tok}}}
	refused(t, inst.Access(t, both), tok, 400, "OAUTH_REQUEST_INVALID")
}

func TestConsumerMapping(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	s := startPlugin(t)
	strict := s.StartInstance(t, baseCfg(p, "consumer_claim", "sub"))
	refused(t, strict.Access(t, bearerReq(k.mint(t, claims(p.issuer(), "sub", "nobody")))), "", 500, "CONSUMER_NOT_FOUND")
	optional := s.StartInstance(t, baseCfg(p, "consumer_claim", "sub", "consumer_optional", true))
	res := optional.Access(t, bearerReq(k.mint(t, claims(p.issuer(), "sub", "nobody"))))
	accepted(t, res)
	if res.AuthConsumer != nil && res.AuthConsumer.ID != "" {
		t.Fatalf("no consumer expected: %+v", res.AuthConsumer)
	}
	custom := s.StartInstance(t, baseCfg(p, "consumer_claim", "client_id", "consumer_by", "custom_id"))
	res = custom.Access(t, bearerReq(k.mint(t, claims(p.issuer()))))
	accepted(t, res)
	if res.UpstreamHeaders.Get("X-Consumer-Custom-ID") != "web-app" {
		t.Fatalf("custom id: %v", res.UpstreamHeaders)
	}
	anon := s.StartInstance(t, baseCfg(p, "anonymous", "anonymous", "claims_to_headers", map[string]any{"sub": "X-Token-Subject"}))
	res = anon.Access(t, bearerReq("", "X-Authenticated-Scope", "admin", "X-Authenticated-Userid", "root", "X-Token-Subject", "root"))
	if res.Exited || res.UpstreamHeaders.Get("X-Anonymous-Consumer") != "true" {
		t.Fatalf("anonymous: %d %s", res.Status, res.Body)
	}
	for _, h := range []string{"X-Authenticated-Scope", "X-Authenticated-Userid", "X-Token-Subject"} {
		if v := res.UpstreamHeaders.Get(h); v != "" {
			t.Errorf("anonymous request kept the spoofed %s: %q", h, v)
		}
	}
}

func TestRoundTrips(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	inst := startPlugin(t).StartInstance(t, baseCfg(p))
	tok := k.mint(t, claims(p.issuer()))
	inst.Access(t, bearerReq(tok))
	ok := inst.Access(t, bearerReq(tok))
	bad := inst.Access(t, bearerReq(k.mint(t, claims(p.issuer(), "exp", time.Now().Add(-time.Hour).Unix()))))
	t.Logf("success %d %v, refusal %d %v", ok.RoundTrips(), ok.Calls, bad.RoundTrips(), bad.Calls)
	kongwire.CheckTrips(t, "success", ok, 1, 2, "kong.request.get_headers", "kong.client.authenticate", "kong.service.request.set_headers")
	kongwire.CheckTrips(t, "refusal", bad, 1, 2, "kong.request.get_headers", "kong.log.notice", "kong.log.set_serialize_value", "kong.response.exit")
}
