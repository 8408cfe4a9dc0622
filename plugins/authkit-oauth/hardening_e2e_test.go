package main

import (
	"net/http"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// spoofedIdentity is every header a client must never be able to hand the
// upstream through authkit-oauth: Kong's identity headers, the plugin's own
// scope and subject headers, and a claims_to_headers target.
var spoofedIdentity = []string{
	"X-Consumer-ID", "X-Consumer-Username", "X-Consumer-Custom-ID", "X-Credential-Identifier",
	"X-Anonymous-Consumer", "X-Authenticated-Scope", "X-Authenticated-Userid", "X-Token-Subject",
}

func spoofed(method string) *kongwire.Request {
	r := &kongwire.Request{Method: method, Path: "/api", Headers: http.Header{"Origin": {"https://app.example.test"}, "Access-Control-Request-Method": {"DELETE"}}}
	for _, h := range spoofedIdentity {
		r.Headers.Set(h, "spoofed")
	}
	return r
}

// Issue 11, item 8: with run_on_preflight false, a CORS preflight is let
// through unauthenticated, but never with identity headers the client set.
func TestPreflightNeverForwardsSpoofedIdentity(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	s := startPlugin(t)
	for _, anon := range []string{"", "anonymous"} {
		cfg := baseCfg(p, "run_on_preflight", false, "claims_to_headers", map[string]any{"sub": "X-Token-Subject"})
		if anon != "" {
			cfg["anonymous"] = anon
		}
		inst := s.StartInstance(t, cfg)
		t.Run("anonymous="+anon, func(t *testing.T) {
			res := inst.Access(t, spoofed("OPTIONS"))
			if res.Exited || res.Err != nil || res.Authenticated {
				t.Fatalf("a preflight passes unauthenticated: %d %s %v", res.Status, res.Body, res.Err)
			}
			for _, h := range spoofedIdentity {
				if v, ok := res.UpstreamHeaders[http.CanonicalHeaderKey(h)]; ok && len(v) > 0 && v[0] != "" {
					t.Errorf("preflight forwarded the client's %s: %q", h, v)
				}
			}
		})
	}

	// An earlier auth plugin authenticated the preflight: its identity
	// headers stay, this plugin's own headers are still cleared.
	inst := s.StartInstance(t, baseCfg(p, "run_on_preflight", false, "claims_to_headers", map[string]any{"sub": "X-Token-Subject"}))
	r := spoofed("OPTIONS")
	r.Headers.Set("X-Consumer-ID", userID)
	r.Credential = &kongwire.Credential{ID: "earlier-plugin-cred", ConsumerID: userID}
	res := inst.Access(t, r)
	if res.Exited || res.UpstreamHeaders.Get("X-Consumer-ID") != userID {
		t.Fatalf("the earlier plugin's identity must stay: %v", res.UpstreamHeaders)
	}
	for _, h := range []string{"X-Authenticated-Scope", "X-Authenticated-Userid", "X-Token-Subject"} {
		if v := res.UpstreamHeaders.Get(h); v != "" {
			t.Errorf("preflight forwarded the client's %s: %q", h, v)
		}
	}
}
