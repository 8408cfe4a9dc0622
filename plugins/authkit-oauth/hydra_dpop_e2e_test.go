package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/hydratest"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

// TestHydraIssuesNoDPoPBoundTokens pins what Ory Hydra v2.3.0 does with a
// DPoP proof at its token endpoint (RFC 9449 §5): nothing. Neither Hydra
// v2.3.0 nor fosite v0.49.0 implements DPoP (no "DPoP", "jkt" or "cnf" in
// their Go sources): the proof is ignored, token_type is "bearer", and the
// JWT has no cnf.jkt. So Hydra cannot be the issuer of the DPoP tests
// (those use the scripted provider); here the gateway treats its token as
// the bearer token it is: accepted as Bearer when DPoP is optional,
// refused as not bound when it is strict, and refused with the DPoP
// scheme.
func TestHydraIssuesNoDPoPBoundTokens(t *testing.T) {
	h := hydratest.Start(t, hydratest.StrategyJWT)
	h.CreateClient(t, hydratest.ClientSpec{ID: "web-app", Secret: "web-secret", GrantTypes: []string{"client_credentials"}, Scope: "read", Audience: []string{apiAudience}})
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := dpop.NewSigner(k, "")
	if err != nil {
		t.Fatal(err)
	}
	proof, err := s.Proof("POST", h.TokenURL(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}, "audience": {apiAudience}}
	req, _ := http.NewRequest("POST", h.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	req.SetBasicAuth("web-app", "web-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ans struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token endpoint: %d %s", resp.StatusCode, body)
	}
	payload, err := decodeSegment(strings.Split(ans.AccessToken, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(ans.TokenType, "bearer") || strings.Contains(string(payload), `"cnf"`) {
		t.Fatalf("Hydra now binds tokens (token_type %q, claims %s): use it as the DPoP issuer in these tests", ans.TokenType, payload)
	}
	t.Logf("Hydra v2.3.0 answered token_type %q and no cnf to a token request with a DPoP proof", ans.TokenType)

	srv := startPlugin(t)
	cfg := func(mode string) map[string]any {
		return map[string]any{"issuer": h.Issuer(), "audiences": []any{apiAudience}, "token_mode": "jwt", "realm": "api", "proof_of_possession_dpop": mode}
	}
	optional, strict := srv.StartInstance(t, cfg("optional")), srv.StartInstance(t, cfg("strict"))
	accepted(t, optional.Access(t, bearerReq(ans.AccessToken)))
	p, _ := s.Proof("GET", apiURI, ans.AccessToken, "")
	dpopRefused(t, optional.Access(t, dpopReq(ans.AccessToken, p)), 401, "OAUTH_DPOP_TOKEN_NOT_BOUND", "invalid_token")
	dpopRefused(t, strict.Access(t, bearerReq(ans.AccessToken)), 401, "OAUTH_DPOP_TOKEN_NOT_BOUND", "invalid_token")
}
