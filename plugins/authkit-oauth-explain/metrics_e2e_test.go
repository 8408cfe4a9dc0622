package main

import (
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/promtest"
)

// authkit-oauth-explain's outcomes through the binary: a request refused
// before the provider (enforce), a provider error explained, an answer
// replaced, a usable answer with a warning, a clean answer; the access
// phase of a request that goes on decides nothing.
func TestMetricsCountWhatWasSent(t *testing.T) {
	s := kongwire.StartArgs(t, kongwire.Build(t, "authkit-oauth-explain"), []string{"-metrics-listen", "127.0.0.1:0"})
	url := s.MetricsURL(t)
	inst := s.StartInstance(t, map[string]any{"allowed_grant_types": []any{"client_credentials"}, "enforce": true, "rewrite_invalid_responses": true})
	cc := "grant_type=client_credentials"

	refusedRes := inst.Access(t, tokenRequest("grant_type=password", "app", "s3cret"))
	if !refusedRes.Exited || refusedRes.Status != 400 {
		t.Fatalf("enforce: %d %s", refusedRes.Status, refusedRes.Body)
	}
	for _, c := range []struct {
		up   *kongwire.Upstream
		code string
	}{
		{answer(401, "application/json", `{"error":"invalid_client"}`), "OAUTH_CLIENT_AUTH_FAILED"},
		{answer(200, "text/html", "<html>Sign in</html>"), "OAUTH_PROVIDER_INVALID_RESPONSE"}, // replaced
		{answer(200, "application/json", goodToken), "OAUTH_PROVIDER_INVALID_RESPONSE"},       // no Cache-Control: no-store
		{answer(200, "application/json", goodToken, "Cache-Control", "no-store"), ""},
	} {
		req := tokenRequest(cc, "app", "s3cret")
		if acc := inst.Access(t, req); acc.Exited {
			t.Fatalf("access refused a valid request: %s", acc.Body)
		}
		res := inst.Response(t, req, c.up)
		if got := res.Header("X-Authkit-Code"); got != c.code {
			t.Fatalf("X-Authkit-Code %q, want %q", got, c.code)
		}
		if c.code != "" && c.up.Status == 200 && c.up.Headers.Get("Content-Type") == "application/json" {
			// The warning's record says the exchange was accepted.
			if lines := res.AuthkitLines(); len(lines) != 1 || !strings.Contains(lines[0], `"outcome":"accepted"`) {
				t.Errorf("want one warning record with outcome accepted: %v", lines)
			}
		}
	}

	m := promtest.Scrape(t, url)
	for _, x := range []struct {
		outcome, code string
		want          float64
	}{
		{"refused", "OAUTH_UNSUPPORTED_GRANT_TYPE", 1},
		{"refused", "OAUTH_CLIENT_AUTH_FAILED", 1},
		{"refused", "OAUTH_PROVIDER_INVALID_RESPONSE", 1},
		{"accepted", "", 2},
	} {
		labels := map[string]string{"plugin": "authkit-oauth-explain", "route_id": inst.RouteID, "outcome": x.outcome, "code": x.code}
		if got := m.Sum("authkit_decisions_total", labels); got != x.want {
			t.Errorf("decisions %v = %v, want %v", labels, got, x.want)
		}
	}
	if got := m.Sum("authkit_decisions_total", nil); got != 5 {
		t.Errorf("%v decisions, want 5: %v", got, m.Series("authkit_decisions_total"))
	}
	if got := m.Sum("authkit_warnings_total", map[string]string{"code": "OAUTH_PROVIDER_INVALID_RESPONSE"}); got != 1 {
		t.Errorf("warnings %v", got)
	}
	for phase, want := range map[string]float64{"access": 5, "response": 4} {
		if got := m.Sum("authkit_event_duration_seconds_count", map[string]string{"phase": phase}); got != want {
			t.Errorf("%s events: %v, want %v", phase, got, want)
		}
	}
	promtest.CheckVocabulary(t, m, []string{"authkit-oauth-explain"}, []string{inst.RouteID})
}
