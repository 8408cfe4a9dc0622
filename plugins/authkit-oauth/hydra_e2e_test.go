package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/hydratest"
)

const apiAudience = "https://api.example.test"

// TestHydraJWT: Hydra issues real RS256 JWT access tokens; the plugin finds
// the keys by discovery and validates them locally.
func TestHydraJWT(t *testing.T) {
	h := hydratest.Start(t, hydratest.StrategyJWT)
	h.CreateClient(t, hydratest.ClientSpec{ID: "web-app", Secret: "web-secret", GrantTypes: []string{"client_credentials"}, Scope: "read write", Audience: []string{apiAudience}})
	h.CreateClient(t, hydratest.ClientSpec{ID: "intruder", Secret: "intruder-secret", GrantTypes: []string{"client_credentials"}, Scope: "read write", Audience: []string{apiAudience}})

	s := startPlugin(t)
	inst := s.StartInstance(t, map[string]any{"issuer": h.Issuer(), "audiences": []any{apiAudience}, "token_mode": "jwt",
		"allowed_client_ids": []any{"web-app"}, "required_scopes": []any{"read"}, "jwks_min_refresh_seconds": 0, "realm": "api"})
	writeInst := s.StartInstance(t, map[string]any{"issuer": h.Issuer(), "audiences": []any{apiAudience}, "required_scopes": []any{"write"}, "realm": "api"})

	tok := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", []string{apiAudience})
	res := inst.Access(t, bearerReq(tok))
	accepted(t, res)
	if res.UpstreamHeaders.Get("X-Authenticated-Scope") != "read" || res.UpstreamHeaders.Get("X-Authenticated-Userid") != "web-app" {
		t.Fatalf("upstream %v", res.UpstreamHeaders)
	}

	other := h.ClientCredentialsToken(t, "intruder", "intruder-secret", "read", []string{apiAudience})
	refused(t, inst.Access(t, bearerReq(other)), other, 401, "OAUTH_CLIENT_NOT_ALLOWED", "intruder")
	refused(t, writeInst.Access(t, bearerReq(tok)), tok, 403, "OAUTH_INSUFFICIENT_SCOPE", "write")
	noAud := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", nil)
	refused(t, inst.Access(t, bearerReq(noAud)), noAud, 401, "OAUTH_AUDIENCE_MISMATCH")

	// Key rotation at Hydra: the new kid is fetched and accepted.
	kid := h.RotateKeys(t)
	rotated := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", []string{apiAudience})
	if !strings.Contains(headerOf(t, rotated), kid) {
		t.Fatalf("token after rotation does not carry the new kid %s", kid)
	}
	accepted(t, inst.Access(t, bearerReq(rotated)))
	accepted(t, inst.Access(t, bearerReq(tok))) // the old key stays published

	// Hydra stopped mid-test: JWTs still validate from the cached keys.
	fresh := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", []string{apiAudience})
	h.Stop(t)
	accepted(t, inst.Access(t, bearerReq(fresh)))
}

// TestHydraOpaque: Hydra issues opaque tokens; the plugin introspects them
// at Hydra's admin endpoint.
func TestHydraOpaque(t *testing.T) {
	h := hydratest.Start(t, hydratest.StrategyOpaque)
	h.CreateClient(t, hydratest.ClientSpec{ID: "web-app", Secret: "web-secret", GrantTypes: []string{"client_credentials"}, Scope: "read write", Audience: []string{apiAudience}})
	h.CreateClient(t, hydratest.ClientSpec{ID: "intruder", Secret: "intruder-secret", GrantTypes: []string{"client_credentials"}, Scope: "read", Audience: []string{apiAudience}})

	s := startPlugin(t)
	cfg := func(kv ...any) map[string]any {
		c := map[string]any{"introspection_endpoint": h.IntrospectionURL(), "introspection_auth_method": "none", "token_mode": "auto",
			"issuer": h.Issuer(), "audiences": []any{apiAudience}, "allowed_client_ids": []any{"web-app"},
			"introspection_cache_ttl_seconds": 0, "introspection_negative_ttl_seconds": 0, "http_timeout_ms": 2000, "realm": "api"}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	inst := s.StartInstance(t, cfg())
	scoped := s.StartInstance(t, cfg("required_scopes", []any{"write"}))

	tok := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", []string{apiAudience})
	if !strings.HasPrefix(tok, "ory_at_") {
		t.Fatalf("not an opaque Hydra token: %.20s…", tok)
	}
	res := inst.Access(t, bearerReq(tok))
	accepted(t, res)
	if res.UpstreamHeaders.Get("X-Authenticated-Scope") != "read" {
		t.Fatalf("upstream %v", res.UpstreamHeaders)
	}
	refused(t, scoped.Access(t, bearerReq(tok)), tok, 403, "OAUTH_INSUFFICIENT_SCOPE")
	other := h.ClientCredentialsToken(t, "intruder", "intruder-secret", "read", []string{apiAudience})
	refused(t, inst.Access(t, bearerReq(other)), other, 401, "OAUTH_CLIENT_NOT_ALLOWED", "intruder")

	h.Revoke(t, "web-app", "web-secret", tok)
	refused(t, inst.Access(t, bearerReq(tok)), tok, 401, "OAUTH_TOKEN_INACTIVE")

	// A cached active answer keeps working for its TTL; then Hydra goes
	// down and an uncached opaque token is refused as unreachable.
	cached := s.StartInstance(t, cfg("introspection_cache_ttl_seconds", 300))
	kept := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", []string{apiAudience})
	accepted(t, cached.Access(t, bearerReq(kept)))
	unused := h.ClientCredentialsToken(t, "web-app", "web-secret", "read", []string{apiAudience})
	h.Stop(t)
	accepted(t, cached.Access(t, bearerReq(kept)))
	refused(t, inst.Access(t, bearerReq(unused)), unused, 503, "OAUTH_PROVIDER_UNREACHABLE")
}

func headerOf(t *testing.T, jwt string) string {
	t.Helper()
	h, _, ok := strings.Cut(jwt, ".")
	if !ok {
		t.Fatal("not a JWT")
	}
	b, err := decodeSegment(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHydraRefreshTokenIsNotAnAccessToken (issue 11, item 4): Hydra's
// introspection answers active:true for a refresh token, even when asked
// with token_type_hint=access_token (fosite only changes the order it
// looks in). The plugin must refuse it as a bearer token.
func TestHydraRefreshTokenIsNotAnAccessToken(t *testing.T) {
	h := hydratest.Start(t, hydratest.StrategyOpaque)
	const cb = "http://127.0.0.1:5555/callback"
	h.CreateClient(t, hydratest.ClientSpec{ID: "web", Secret: "web-secret", GrantTypes: []string{"authorization_code", "refresh_token"},
		Scope: "offline_access read", Audience: []string{apiAudience}, RedirectURIs: []string{cb}})
	code := h.AuthorizationCodeAudience(t, "web", cb, "offline_access read", []string{apiAudience})
	status, body := h.ExchangeCode(t, "web", "web-secret", code, cb)
	var toks struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &toks); status != 200 || err != nil || toks.AccessToken == "" || toks.RefreshToken == "" {
		t.Fatalf("code exchange: %d %v: %s", status, err, body)
	}

	// The premise: Hydra calls the refresh token active, hint or not.
	resp, err := http.PostForm(h.IntrospectionURL(), url.Values{"token": {toks.RefreshToken}, "token_type_hint": {"access_token"}})
	if err != nil {
		t.Fatal(err)
	}
	var ans map[string]any
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if ans["active"] != true || ans["token_use"] != "refresh_token" {
		t.Fatalf("Hydra's answer for a refresh token with token_type_hint=access_token: %v", ans)
	}
	t.Logf("Hydra introspects a refresh token as %v", ans)

	s := startPlugin(t)
	inst := s.StartInstance(t, map[string]any{"introspection_endpoint": h.IntrospectionURL(), "introspection_auth_method": "none",
		"token_mode": "introspection", "audiences": []any{apiAudience}, "allowed_issuers": []any{h.Issuer()},
		"http_timeout_ms": 2000, "realm": "api"})
	accepted(t, inst.Access(t, bearerReq(toks.AccessToken)))
	refused(t, inst.Access(t, bearerReq(toks.RefreshToken)), toks.RefreshToken, 401, "OAUTH_TOKEN_TYPE_INVALID", "refresh_token")
}
