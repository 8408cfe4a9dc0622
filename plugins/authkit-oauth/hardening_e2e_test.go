package main

import (
	"net/http"
	"strings"
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

// Issue 11, item 6 (RFC 6750 §3.1): a request that carries no bearer
// credentials — none at all, or those of another scheme — gets 401 with a
// bare challenge and no error code; a malformed Bearer header or several
// tokens stay 400 invalid_request.
func TestOtherSchemeIsMissingNotMalformed(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "token_query_param", "access_token"))
	tok := k.mint(t, claims(p.issuer()))
	for _, tt := range []struct {
		name   string
		req    *kongwire.Request
		status int
		code   string
	}{
		{"basic", bearerReq("", "Authorization", "Basic dXNlcjpwdw=="), 401, "OAUTH_TOKEN_MISSING"},
		{"digest", bearerReq("", "Authorization", `Digest username="u", realm="api"`), 401, "OAUTH_TOKEN_MISSING"},
		{"lower-case basic", bearerReq("", "Authorization", "basic dXNlcjpwdw=="), 401, "OAUTH_TOKEN_MISSING"},
		{"nothing", bearerReq(""), 401, "OAUTH_TOKEN_MISSING"},
		{"bearer without token", bearerReq("", "Authorization", "Bearer"), 400, "OAUTH_REQUEST_INVALID"},
		{"bearer with two words", bearerReq("", "Authorization", "Bearer a b"), 400, "OAUTH_REQUEST_INVALID"},
		{"basic header and a query token", &kongwire.Request{Path: "/api", RawQuery: "access_token=" + tok, Headers: http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}}, 400, "OAUTH_REQUEST_INVALID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := inst.Access(t, tt.req)
			refused(t, res, tok, tt.status, tt.code)
			if tt.status == 401 && res.Header("WWW-Authenticate") != `Bearer realm="api"` {
				t.Fatalf("RFC 6750 §3.1: bare challenge expected, got %q", res.Header("WWW-Authenticate"))
			}
		})
	}
	t.Run("two bearer headers", func(t *testing.T) {
		// nginx answers 400 itself: the plugin never sees two
		// Authorization headers (docs/kong-behaviour.md).
		res := inst.Access(t, bearerReq(tok, "Authorization", "Bearer "+tok))
		if !res.RejectedByNginx || res.Status != 400 || len(res.Calls) != 0 {
			t.Fatalf("%+v", res)
		}
	})
}

// Issue 11, item 7: the token is read and hidden by one parser, so what the
// gateway authenticated is exactly what it removes, and a second token that
// some parser would see is never ignored.
func TestOneParserReadsAndHidesTheToken(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "hide_credentials", true, "token_query_param", "access_token", "token_cookie", "at"))
	tok, other := k.mint(t, claims(p.issuer())), k.mint(t, claims(p.issuer(), "sub", "someone-else"))

	for _, cookie := range []string{"theme=dark; at =" + tok, "theme=dark;at=" + tok + " ", "at\t=" + tok + "; theme=dark", `at="` + tok + `"; theme=dark`} {
		t.Run("cookie "+strings.SplitN(cookie, tok, 2)[0], func(t *testing.T) {
			res := inst.Access(t, bearerReq("", "Cookie", cookie))
			accepted(t, res)
			if c := res.UpstreamHeaders.Get("Cookie"); strings.Contains(c, tok) || c != "theme=dark" {
				t.Fatalf("upstream cookie %q", c)
			}
		})
	}
	t.Run("query with an undecodable neighbour", func(t *testing.T) {
		res := inst.Access(t, &kongwire.Request{Path: "/api", RawQuery: "x=%zz&access_token=" + tok + "&y=1", Headers: http.Header{}})
		accepted(t, res)
		if res.UpstreamQuery != "x=%zz&y=1" {
			t.Fatalf("upstream query %q", res.UpstreamQuery)
		}
	})
	for _, tt := range []struct {
		name string
		req  *kongwire.Request
	}{
		{"header token and a query token next to a bad escape", &kongwire.Request{Path: "/api", RawQuery: "access_token=" + other + "&x=%zz", Headers: http.Header{"Authorization": {"Bearer " + tok}}}},
		{"header token and an undecodable query token", &kongwire.Request{Path: "/api", RawQuery: "access_token=%zz" + other, Headers: http.Header{"Authorization": {"Bearer " + tok}}}},
		{"header token and a query token with a semicolon", &kongwire.Request{Path: "/api", RawQuery: "access_token=" + other + ";x=1", Headers: http.Header{"Authorization": {"Bearer " + tok}}}},
		{"a second cookie net/http would skip", bearerReq("", "Cookie", "at="+tok+`; at="`+other)},
		{"two cookies, one with a space before =", bearerReq("", "Cookie", "at="+tok+"; at ="+other)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refused(t, inst.Access(t, tt.req), tok, 400, "OAUTH_REQUEST_INVALID")
		})
	}
}

// Issue 11, "also investigate": a CR, LF or other control character in a
// token's jti, sub, custom_id or a claims_to_headers claim never reaches an
// upstream header, neither raw nor trimmed into another identity: the
// header is removed, X-Credential-Identifier falls back (jti → sub → the
// token's fingerprint), and an unusable consumer claim maps no consumer.
func TestTokenClaimsWithControlCharacters(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	s := startPlugin(t)
	inst := s.StartInstance(t, baseCfg(p, "claims_to_headers", map[string]any{"email": "X-User-Email", "name": "X-User-Name"}))
	noHeaderInjection := func(t *testing.T, h http.Header) {
		t.Helper()
		for name, vals := range h {
			for _, v := range vals {
				if strings.ContainsAny(v, "\r\n\x00") || strings.Contains(v, "%0D") || strings.Contains(v, "%0A") || strings.EqualFold(name, "X-Evil") {
					t.Fatalf("control characters reached the upstream: %s: %q", name, v)
				}
			}
		}
	}

	res := inst.Access(t, bearerReq(k.mint(t, claims(p.issuer(), "jti", "jti-1\r\nX-Evil: 1", "email", "alice@example.test\r", "name", "Mallory"))))
	accepted(t, res)
	noHeaderInjection(t, res.UpstreamHeaders)
	h := res.UpstreamHeaders
	if h.Get("X-Credential-Identifier") != "user-1" || h.Get("X-User-Email") != "" || h.Get("X-User-Name") != "Mallory" {
		t.Fatalf("credential %q email %q name %q", h.Get("X-Credential-Identifier"), h.Get("X-User-Email"), h.Get("X-User-Name"))
	}
	if res.AuthCredential == nil || res.AuthCredential.ID != "user-1" {
		t.Fatalf("kong.client.authenticate got %+v", res.AuthCredential)
	}

	tok := k.mint(t, claims(p.issuer(), "jti", "j\x00", "sub", "user-1\n"))
	res = inst.Access(t, bearerReq(tok))
	accepted(t, res)
	noHeaderInjection(t, res.UpstreamHeaders)
	if got := res.UpstreamHeaders.Get("X-Credential-Identifier"); !strings.HasPrefix(got, "token:") || res.UpstreamHeaders.Get("X-Authenticated-Userid") != "" {
		t.Fatalf("credential %q userid %q", got, res.UpstreamHeaders.Get("X-Authenticated-Userid"))
	}

	custom := s.StartInstance(t, baseCfg(p, "consumer_claim", "client_id", "consumer_by", "custom_id"))
	res = custom.Access(t, bearerReq(k.mint(t, claims(p.issuer(), "client_id", "web-app\r\n"))))
	refused(t, res, "", 403, "OAUTH_CLAIM_MISMATCH")
	optional := s.StartInstance(t, baseCfg(p, "consumer_claim", "client_id", "consumer_by", "custom_id", "consumer_optional", true))
	res = optional.Access(t, bearerReq(k.mint(t, claims(p.issuer(), "client_id", "web-app\r"))))
	accepted(t, res)
	noHeaderInjection(t, res.UpstreamHeaders)
	if got := res.UpstreamHeaders.Get("X-Consumer-Custom-ID"); got != "" {
		t.Fatalf("custom id %q", got)
	}
}

// A header that is not UTF-8 hides every header from a go-pdk plugin, the
// Authorization header among them: refused, not taken for "no header".
func TestUnreadableHeadersRefused(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	cfg := baseCfg(p, "token_query_param", "access_token", "anonymous", "anonymous")
	inst := startPlugin(t).StartInstance(t, cfg)
	tok := k.mint(t, claims(p.issuer()))
	r := &kongwire.Request{Path: "/api", RawQuery: "access_token=" + tok, Headers: http.Header{"Authorization": {"Bearer smuggled"}, "X-Latin1": {"caf\xe9"}}}
	refused(t, inst.Access(t, r), tok, 500, "INTERNAL_ERROR")
}
