package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/hydratest"
	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

const callback = "http://127.0.0.1:5555/callback"

// proxy plays Kong: the access event, then the request to the real
// provider (as the plugin left it), then the response event with the
// provider's real answer.
func proxy(t *testing.T, inst *kongwire.Instance, tokenURL string, req *kongwire.Request) (*kongwire.Result, *kongwire.Upstream) {
	t.Helper()
	if acc := inst.Access(t, req); acc.Exited {
		return acc, nil
	}
	hreq, err := http.NewRequest(req.Method, tokenURL, bytes.NewReader(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header = req.Headers.Clone()
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	up := &kongwire.Upstream{Status: resp.StatusCode, Headers: resp.Header, Body: body}
	return inst.Response(t, req, up), up
}

func TestHydraTokenEndpoint(t *testing.T) {
	h := hydratest.Start(t, hydratest.StrategyOpaque)
	h.CreateClient(t, hydratest.ClientSpec{ID: "svc", Secret: "svc-secret", GrantTypes: []string{"client_credentials"}, Scope: "read"})
	h.CreateClient(t, hydratest.ClientSpec{ID: "web", Secret: "web-secret", GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scope: "openid read", RedirectURIs: []string{callback, "http://127.0.0.1:5555/other"}})
	inst := startPlugin(t).StartInstance(t, map[string]any{"allowed_redirect_uris": []any{callback}})

	t.Run("valid exchange passes untouched", func(t *testing.T) {
		res, up := proxy(t, inst, h.TokenURL(), tokenRequest("grant_type=client_credentials&scope=read", "svc", "svc-secret"))
		if up.Status != 200 || res.Header("X-Authkit-Code") != "" || len(res.Logs) != 0 || string(res.Body) != string(up.Body) {
			t.Fatalf("status %d code %q logs %v", up.Status, res.Header("X-Authkit-Code"), res.Logs)
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		res, up := proxy(t, inst, h.TokenURL(), tokenRequest("grant_type=client_credentials&scope=read", "svc", "s3cret-wrong"))
		explained(t, res, up, "OAUTH_CLIENT_AUTH_FAILED")
	})
	t.Run("scope not allowed for the client", func(t *testing.T) {
		res, up := proxy(t, inst, h.TokenURL(), tokenRequest("grant_type=client_credentials&scope=admin", "svc", "svc-secret"))
		explained(t, res, up, "OAUTH_INVALID_SCOPE")
	})
	t.Run("authorization code: redirect_uri mismatch, then reuse", func(t *testing.T) {
		code := h.AuthorizationCode(t, "web", callback, "read")
		form := func(redirect string) string {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}.Encode()
		}
		// Registered at Hydra, but not the one used in the authorization request.
		res, up := proxy(t, inst, h.TokenURL(), tokenRequest(form("http://127.0.0.1:5555/other"), "web", "web-secret"))
		explained(t, res, up, "OAUTH_REDIRECT_URI_MISMATCH")
		for _, l := range res.Logs {
			if strings.Contains(l.Message, code) {
				t.Fatal("the authorization code leaked into the log")
			}
		}

		code = h.AuthorizationCode(t, "web", callback, "read")
		res, up = proxy(t, inst, h.TokenURL(), tokenRequest(form(callback), "web", "web-secret"))
		if up.Status != 200 || res.Header("X-Authkit-Code") != "" {
			t.Fatalf("valid code exchange: %d %q %s", up.Status, res.Header("X-Authkit-Code"), up.Body)
		}
		res, up = proxy(t, inst, h.TokenURL(), tokenRequest(form(callback), "web", "web-secret"))
		explained(t, res, up, "OAUTH_INVALID_GRANT")
	})
}

// Issue 11, item 3 against the real provider: Hydra reads a multipart token
// request as a form, so a client the allow-list forbids gets a token if the
// gateway lets the request through unparsed. With enforce it is refused.
func TestHydraEnforceRefusesMultipart(t *testing.T) {
	h := hydratest.Start(t, hydratest.StrategyOpaque)
	h.CreateClient(t, hydratest.ClientSpec{ID: "intruder", Secret: "intruder-secret", GrantTypes: []string{"client_credentials"}, Scope: "read"})
	inst := startPlugin(t).StartInstance(t, map[string]any{"enforce": true, "allowed_client_ids": []any{"svc"}})

	req := multipartRequest(t, "grant_type", "client_credentials", "scope", "read")
	req.Headers.Set("Authorization", "Basic aW50cnVkZXI6aW50cnVkZXItc2VjcmV0") // intruder:intruder-secret
	// What Hydra does with these exact bytes when nothing stops them.
	hreq, _ := http.NewRequest("POST", h.TokenURL(), bytes.NewReader(req.Body))
	hreq.Header = req.Headers.Clone()
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "access_token") {
		t.Fatalf("Hydra did not issue a token for the multipart request (%d %s): the threat model changed", resp.StatusCode, body)
	}

	res, up := proxy(t, inst, h.TokenURL(), req)
	if up != nil {
		t.Fatalf("the gateway let the multipart request reach Hydra: %d %s", up.Status, up.Body)
	}
	refusedInvalidRequest(t, res)
}
