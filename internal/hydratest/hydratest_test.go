package hydratest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/hydratest"
)

const audience = "https://api.example.test"

type jwtParts struct {
	header map[string]any
	claims map[string]any
	signed string
	sig    []byte
}

func splitJWT(t *testing.T, tok string) jwtParts {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("not a JWS compact token (%d parts): %q", len(p), tok)
	}
	var out jwtParts
	for i, dst := range []*map[string]any{&out.header, &out.claims} {
		b, err := base64.RawURLEncoding.DecodeString(p[i])
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("part %d: %v: %s", i, err, b)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(p[2])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	out.signed, out.sig = p[0]+"."+p[1], sig
	return out
}

// jwks fetches Hydra's public JWKS as kid → RSA key.
func jwks(t *testing.T, h *hydratest.Hydra) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(h.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, Alg, Use, N, E string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Use != "sig" {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

func verifyRS256(t *testing.T, keys map[string]*rsa.PublicKey, j jwtParts) {
	t.Helper()
	kid, _ := j.header["kid"].(string)
	key := keys[kid]
	if key == nil {
		t.Fatalf("kid %q not in JWKS", kid)
	}
	sum := sha256.Sum256([]byte(j.signed))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], j.sig); err != nil {
		t.Fatalf("signature does not verify with JWKS key %q: %v", kid, err)
	}
}

func oauthError(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	return m
}

func jwtClientCredentials(t *testing.T, h *hydratest.Hydra) {
	h.CreateClient(t, hydratest.ClientSpec{ID: "svc-cc", Secret: "svc-cc-secret", Scope: "read write", Audience: []string{audience}})

	tok := h.ClientCredentialsToken(t, "svc-cc", "svc-cc-secret", "read write", []string{audience})
	j := splitJWT(t, tok)
	if j.header["alg"] != "RS256" || j.header["typ"] != "JWT" {
		t.Errorf("header = %v, want alg RS256 typ JWT", j.header)
	}
	verifyRS256(t, jwks(t, h), j)

	c := j.claims
	if c["iss"] != h.Issuer() || c["client_id"] != "svc-cc" || c["sub"] != "svc-cc" || c["scope"] != "read write" {
		t.Errorf("claims = %v", c)
	}
	if !reflect.DeepEqual(c["aud"], []any{audience}) {
		t.Errorf("aud = %#v, want [%q]", c["aud"], audience)
	}
	if !reflect.DeepEqual(c["scp"], []any{"read", "write"}) {
		t.Errorf("scp = %#v", c["scp"])
	}
	for _, k := range []string{"exp", "iat", "nbf", "jti"} {
		if _, ok := c[k]; !ok {
			t.Errorf("claim %q missing: %v", k, c)
		}
	}

	in := h.Introspect(t, tok)
	if in["active"] != true || in["client_id"] != "svc-cc" || in["scope"] != "read write" ||
		in["iss"] != h.Issuer() || in["token_use"] != "access_token" {
		t.Errorf("introspection = %v", in)
	}
	if in := h.Introspect(t, tok[:len(tok)-4]+"AAAA"); in["active"] != false {
		t.Errorf("tampered token introspects as %v", in)
	}

	// Without audience: aud is an empty array, not absent.
	if c := splitJWT(t, h.ClientCredentialsToken(t, "svc-cc", "svc-cc-secret", "read", nil)).claims; !reflect.DeepEqual(c["aud"], []any{}) {
		t.Errorf("aud without audience = %#v, want []", c["aud"])
	}
}

func tokenEndpointErrors(t *testing.T, h *hydratest.Hydra) {
	h.CreateClient(t, hydratest.ClientSpec{ID: "svc-err", Secret: "svc-err-secret", Scope: "read", Audience: []string{audience}})

	cases := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		error      string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, "svc-err", "wrong", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, "nobody", "x", 401, "invalid_client"},
		{"no client auth", url.Values{"grant_type": {"client_credentials"}}, "", "", 400, "invalid_request"},
		{"scope not allowed", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, "svc-err", "svc-err-secret", 400, "invalid_scope"},
		{"audience not allowed", url.Values{"grant_type": {"client_credentials"}, "audience": {"https://other.test"}}, "svc-err", "svc-err-secret", 400, "invalid_request"},
		{"grant not allowed for client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "svc-err", "svc-err-secret", 400, "unauthorized_client"},
		{"grant unsupported by Hydra", url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, "svc-err", "svc-err-secret", 400, "invalid_request"},
		{"no grant_type", url.Values{"scope": {"read"}}, "svc-err", "svc-err-secret", 400, "invalid_request"},
	}
	for _, tc := range cases {
		status, body := h.TokenRequest(t, tc.form, tc.user, tc.pass)
		t.Logf("%s: HTTP %d %s", tc.name, status, body)
		if status != tc.status || oauthError(t, body)["error"] != tc.error {
			t.Errorf("%s: HTTP %d %s, want %d %s", tc.name, status, body, tc.status, tc.error)
		}
	}
}

func opaqueIntrospectRevoke(t *testing.T, h *hydratest.Hydra) {
	h.CreateClient(t, hydratest.ClientSpec{ID: "svc-rev", Secret: "svc-rev-secret", Scope: "read"})

	tok := h.ClientCredentialsToken(t, "svc-rev", "svc-rev-secret", "read", nil)
	if !strings.HasPrefix(tok, "ory_at_") || strings.Count(tok, ".") != 1 {
		t.Fatalf("opaque token %q, want ory_at_<x>.<y>", tok)
	}
	if in := h.Introspect(t, tok); in["active"] != true || in["client_id"] != "svc-rev" || in["scope"] != "read" {
		t.Fatalf("introspection = %v", in)
	}
	h.Revoke(t, "svc-rev", "svc-rev-secret", tok)
	if in := h.Introspect(t, tok); !reflect.DeepEqual(in, map[string]any{"active": false}) {
		t.Fatalf("after revoke: %v, want {active:false}", in)
	}
}

func authorizationCode(t *testing.T, h *hydratest.Hydra) {
	const redirect = "http://127.0.0.1:5555/callback"
	h.CreateClient(t, hydratest.ClientSpec{
		ID: "web", Secret: "web-secret", Scope: "openid read", Audience: []string{audience},
		RedirectURIs: []string{redirect, "http://127.0.0.1:5555/other"},
	})

	code := h.AuthorizationCodeAudience(t, "web", redirect, "openid read", []string{audience})
	status, body := h.ExchangeCode(t, "web", "web-secret", code, redirect)
	if status != http.StatusOK {
		t.Fatalf("exchange: HTTP %d %s", status, body)
	}
	var tr map[string]any
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	at, _ := tr["access_token"].(string)
	if c := splitJWT(t, at).claims; c["sub"] != "user-1" || c["client_id"] != "web" || !reflect.DeepEqual(c["aud"], []any{audience}) {
		t.Errorf("access token claims = %v", c)
	}
	if _, ok := tr["id_token"]; !ok {
		t.Errorf("no id_token for scope openid: %v", tr)
	}

	// Same code again: invalid_grant, and Hydra revokes what the code issued.
	status, body = h.ExchangeCode(t, "web", "web-secret", code, redirect)
	t.Logf("code reuse: HTTP %d %s", status, body)
	if status != 400 || oauthError(t, body)["error"] != "invalid_grant" {
		t.Errorf("code reuse: HTTP %d %s, want 400 invalid_grant", status, body)
	}
	t.Logf("access token after code reuse: introspection %v", h.Introspect(t, at))

	// A fresh code redeemed with another (registered) redirect_uri.
	code2 := h.AuthorizationCode(t, "web", redirect, "read")
	status, body = h.ExchangeCode(t, "web", "web-secret", code2, "http://127.0.0.1:5555/other")
	t.Logf("redirect_uri mismatch: HTTP %d %s", status, body)
	if status != 400 || oauthError(t, body)["error"] != "invalid_grant" {
		t.Errorf("redirect_uri mismatch: HTTP %d %s, want 400 invalid_grant", status, body)
	}
	status, body = h.ExchangeCode(t, "web", "web-secret", code2, redirect)
	t.Logf("same code with the right redirect_uri after the mismatch: HTTP %d %.120s", status, body)

	// A code bound to another client.
	h.CreateClient(t, hydratest.ClientSpec{ID: "web2", Secret: "web2-secret", Scope: "read", RedirectURIs: []string{redirect}})
	code3 := h.AuthorizationCode(t, "web", redirect, "read")
	status, body = h.ExchangeCode(t, "web2", "web2-secret", code3, redirect)
	t.Logf("code of another client: HTTP %d %s", status, body)
	if status != 400 || oauthError(t, body)["error"] != "invalid_grant" {
		t.Errorf("code of another client: HTTP %d %s, want 400 invalid_grant", status, body)
	}
}

func keyRotation(t *testing.T, h *hydratest.Hydra) {
	h.CreateClient(t, hydratest.ClientSpec{ID: "svc-rot", Secret: "svc-rot-secret", Scope: "read"})

	old := h.ClientCredentialsToken(t, "svc-rot", "svc-rot-secret", "read", nil)
	oldKid := splitJWT(t, old).header["kid"]
	newKid := h.RotateKeys(t)
	if newKid == "" || newKid == oldKid {
		t.Fatalf("rotated kid %q, old %q", newKid, oldKid)
	}
	fresh := splitJWT(t, h.ClientCredentialsToken(t, "svc-rot", "svc-rot-secret", "read", nil))
	if fresh.header["kid"] != newKid {
		t.Errorf("token after rotation has kid %v, want %v", fresh.header["kid"], newKid)
	}
	keys := jwks(t, h)
	verifyRS256(t, keys, fresh)
	verifyRS256(t, keys, splitJWT(t, old)) // the old key stays published
	if in := h.Introspect(t, old); in["active"] != false {
		// Documented quirk (ory/fosite#786): if this starts failing, Hydra fixed it.
		t.Errorf("old-kid token introspects as %v; expected the active:false quirk", in)
	}
}

func stopRestart(t *testing.T, h *hydratest.Hydra) {
	h.CreateClient(t, hydratest.ClientSpec{ID: "svc-sr", Secret: "svc-sr-secret", Scope: "read"})
	tok := h.ClientCredentialsToken(t, "svc-sr", "svc-sr-secret", "read", nil)

	h.Stop(t)
	if _, err := http.Post(h.TokenURL(), "application/x-www-form-urlencoded", nil); err == nil {
		t.Fatal("token endpoint still answers after Stop")
	}
	h.Restart(t)
	if in := h.Introspect(t, tok); in["active"] != true {
		t.Errorf("token issued before restart: %v", in)
	}
	h.ClientCredentialsToken(t, "svc-sr", "svc-sr-secret", "read", nil)
}

// One Hydra per strategy keeps the suite fast: each instance generates two
// RSA-4096 keys at start. The subtests use distinct clients; key rotation
// and stop/restart run last because they change the instance for everyone.
func TestJWTStrategy(t *testing.T) {
	t.Parallel()
	h := hydratest.Start(t, hydratest.StrategyJWT)
	t.Run("ClientCredentials", func(t *testing.T) { jwtClientCredentials(t, h) })
	t.Run("AuthorizationCode", func(t *testing.T) { authorizationCode(t, h) })
	t.Run("KeyRotation", func(t *testing.T) { keyRotation(t, h) })
}

func TestOpaqueStrategy(t *testing.T) {
	t.Parallel()
	h := hydratest.Start(t, hydratest.StrategyOpaque)
	t.Run("IntrospectRevoke", func(t *testing.T) { opaqueIntrospectRevoke(t, h) })
	t.Run("TokenEndpointErrors", func(t *testing.T) { tokenEndpointErrors(t, h) })
	t.Run("StopRestart", func(t *testing.T) { stopRestart(t, h) })
}
