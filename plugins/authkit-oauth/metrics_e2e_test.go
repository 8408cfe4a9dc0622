package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/promtest"
)

func startMetricsPlugin(t *testing.T) (*kongwire.Server, string) {
	t.Helper()
	s := kongwire.StartArgs(t, kongwire.Build(t, "authkit-oauth"), []string{"-metrics-listen", "127.0.0.1:0"})
	s.SetConsumers(kongwire.Consumer{ID: userID, Username: "user-1"})
	return s, s.MetricsURL(t)
}

// The provider calls and caches behind a scripted mix of JWT and
// introspection requests, counted exactly, with the final codes.
func TestMetricsProviderCallsAndCaches(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	p.set(func(p *fakeProvider) {
		p.introspect = func(w http.ResponseWriter, token string) {
			if token == "tok-active" {
				activeAnswer(p)(w, token)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"active":false}`)
		}
	})
	s, url := startMetricsPlugin(t)
	jwt := s.StartInstance(t, baseCfg(p))
	intro := s.StartInstance(t, introCfg(p))
	down := s.StartInstance(t, introCfg(p, "introspection_endpoint", closedURL(t)+"/introspect"))

	a, b := k.mint(t, claims(p.issuer())), k.mint(t, claims(p.issuer(), "jti", "b"))
	expired := k.mint(t, claims(p.issuer(), "exp", time.Now().Add(-time.Hour).Unix(), "iat", time.Now().Add(-2*time.Hour).Unix()))
	accepted(t, jwt.Access(t, bearerReq(a)))                                               // discovery, JWKS fetch, verify
	accepted(t, jwt.Access(t, bearerReq(a)))                                               // verified-token hit
	accepted(t, jwt.Access(t, bearerReq(b)))                                               // verify with the cached keys
	refused(t, jwt.Access(t, bearerReq(expired)), expired, 401, "OAUTH_TOKEN_EXPIRED")     // verify, then the claims
	refused(t, jwt.Access(t, bearerReq("not-a-jwt")), "", 401, "OAUTH_TOKEN_MALFORMED")    // no cache, no key
	refused(t, jwt.Access(t, bearerReq("")), "", 401, "OAUTH_TOKEN_MISSING")               // nothing looked up
	accepted(t, intro.Access(t, bearerReq("tok-active")))                                  // introspected
	accepted(t, intro.Access(t, bearerReq("tok-active")))                                  // cached answer
	refused(t, intro.Access(t, bearerReq("tok-revoked")), "", 401, "OAUTH_TOKEN_INACTIVE") // introspected
	refused(t, down.Access(t, bearerReq("tok-x")), "", 503, "OAUTH_PROVIDER_UNREACHABLE")  // the call fails

	m := promtest.Scrape(t, url)
	for _, c := range []struct {
		route         string
		outcome, code string
		want          float64
	}{
		{jwt.RouteID, "accepted", "", 3},
		{jwt.RouteID, "refused", "OAUTH_TOKEN_EXPIRED", 1},
		{jwt.RouteID, "refused", "OAUTH_TOKEN_MALFORMED", 1},
		{jwt.RouteID, "refused", "OAUTH_TOKEN_MISSING", 1},
		{intro.RouteID, "accepted", "", 2},
		{intro.RouteID, "refused", "OAUTH_TOKEN_INACTIVE", 1},
		{down.RouteID, "refused", "OAUTH_PROVIDER_UNREACHABLE", 1},
	} {
		labels := map[string]string{"plugin": "authkit-oauth", "route_id": c.route, "outcome": c.outcome, "code": c.code}
		if got := m.Sum("authkit_decisions_total", labels); got != c.want {
			t.Errorf("decisions %v = %v, want %v", labels, got, c.want)
		}
	}
	calls := func(endpoint, code string) float64 {
		return m.Sum("authkit_provider_request_duration_seconds_count", map[string]string{"plugin": "authkit-oauth", "endpoint": endpoint, "code": code})
	}
	for _, c := range []struct {
		endpoint, code string
		want           float64
	}{
		{"discovery", "", 1},
		{"jwks", "", 1},
		{"introspection", "", 2},
		{"introspection", "OAUTH_PROVIDER_UNREACHABLE", 1},
	} {
		if got := calls(c.endpoint, c.code); got != c.want {
			t.Errorf("provider calls %s %q = %v, want %v", c.endpoint, c.code, got, c.want)
		}
	}
	if got := m.Sum("authkit_provider_request_duration_seconds_count", nil); got != 5 {
		t.Errorf("%v provider calls in all, want 5: %v", got, m.Series("authkit_provider_request_duration_seconds_count"))
	}
	for _, c := range []struct {
		cache      string
		hits, miss float64
	}{
		// a: miss, a: hit, b: miss, expired: miss.
		{"verified_tokens", 1, 3},
		// The hit of a looks its key up again; a, b and expired look it up to verify; only a's fetched.
		{"jwks", 3, 1},
		// tok-active: miss, hit; tok-revoked: miss; tok-x: miss.
		{"introspection", 1, 3},
	} {
		h := m.Sum("authkit_cache_hits_total", map[string]string{"cache": c.cache})
		miss := m.Sum("authkit_cache_misses_total", map[string]string{"cache": c.cache})
		if h != c.hits || miss != c.miss {
			t.Errorf("cache %s: %v hits, %v misses; want %v and %v", c.cache, h, miss, c.hits, c.miss)
		}
	}
	promtest.CheckVocabulary(t, m, []string{"authkit-oauth"}, []string{jwt.RouteID, intro.RouteID, down.RouteID})
}

// 10,000 distinct tokens — garbage, and JWTs naming random kids — with
// hostile headers add counts, not series.
func TestMetricsTokensAddNoSeries(t *testing.T) {
	const n = 10_000
	k := newRSA(t, "k")
	p := newProvider(t, k)
	s, url := startMetricsPlugin(t)
	inst := s.StartInstance(t, baseCfg(p))
	accepted(t, inst.Access(t, bearerReq(k.mint(t, claims(p.issuer())))))
	refused(t, inst.Access(t, bearerReq("warm-up")), "", 401, "OAUTH_TOKEN_MALFORMED")
	refused(t, inst.Access(t, bearerReq(randomKidToken())), "", 401, "OAUTH_KEY_NOT_FOUND")
	before := promtest.Scrape(t, url)

	for i := range n {
		tok, code := randomHex(32), "OAUTH_TOKEN_MALFORMED"
		if i%2 == 1 {
			tok, code = randomKidToken(), "OAUTH_KEY_NOT_FOUND"
		}
		r := bearerReq(tok, "X-Route-Id", randomHex(36), "X-Forwarded-For", randomHex(8), "Outcome", "accepted",
			"X-"+randomHex(8), `code="`+randomHex(12)+`"} 1`)
		kongwire.CheckRefusal(t, inst.Access(t, r), "authkit-oauth", 401, code)
	}
	after := promtest.Scrape(t, url)
	if b, a := before.Series("authkit_"), after.Series("authkit_"); !slices.Equal(b, a) {
		t.Errorf("%d distinct tokens changed the series: %d before, %d after", n, len(b), len(a))
		for _, x := range a {
			if !slices.Contains(b, x) {
				t.Logf("new: %s", x)
			}
		}
	}
	refusedHere := map[string]string{"route_id": inst.RouteID, "outcome": "refused"}
	if got := after.Sum("authkit_decisions_total", refusedHere) - before.Sum("authkit_decisions_total", refusedHere); got != n {
		t.Errorf("refusals grew by %v, want %d", got, n)
	}
	promtest.CheckVocabulary(t, after, []string{"authkit-oauth"}, []string{inst.RouteID})
}

// randomKidToken is a well-formed RS256 JWT naming a kid no key set has.
func randomKidToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	h := enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"` + randomHex(16) + `"}`))
	return h + "." + enc([]byte(`{"sub":"`+randomHex(8)+`"}`)) + "." + enc([]byte(randomHex(64)))
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
