package main

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

func metricsPlugin(t *testing.T) (*kongwire.Server, string) {
	t.Helper()
	s := kongwire.StartArgs(t, kongwire.Build(t, "authkit-basic", "authkit_testseam"), []string{"-metrics-listen", "127.0.0.1:0"})
	s.SetConsumers(
		kongwire.Consumer{ID: aliceID, Username: "alice", CustomID: "cust-alice"},
		kongwire.Consumer{ID: bobID, Username: "bob"},
		kongwire.Consumer{ID: anonID, Username: "anonymous"},
	)
	return s, s.MetricsURL(t)
}

// Every outcome of authkit-basic — accepted, each refusal, the lockout, a
// recovered panic, the anonymous fallback and its missing consumer — and
// the config warning, counted exactly per route; the password and
// consumer caches with them.
func TestMetricsCountWhatWasSent(t *testing.T) {
	s, url := metricsPlugin(t)
	locking := baseConfig(t) // bcrypt and argon2id users: the mixed-scheme warning
	locking["max_failures"], locking["lockout_seconds"] = 2, 60
	a := s.StartInstance(t, locking)
	anonCfg := baseConfig(t)
	anonCfg["anonymous"] = "anonymous"
	b := s.StartInstance(t, anonCfg)
	ghostCfg := baseConfig(t)
	ghostCfg["anonymous"] = "ghost"
	c := s.StartInstance(t, ghostCfg)

	for range 3 {
		accepted(t, a.Access(t, get("Authorization", basic("alice", "alice-pw"))), aliceID, "alice", "alice")
	}
	for range 2 {
		refused(t, a.Access(t, get()), 401, "BASIC_MISSING")
	}
	refused(t, a.Access(t, get("Authorization", "Basic !!")), 400, "BASIC_MALFORMED")
	for range 2 {
		refused(t, a.Access(t, get("Authorization", basic("bob", "guess"))), 401, "BASIC_INVALID_CREDENTIALS")
	}
	refused(t, a.Access(t, get("Authorization", basic("bob", "bob-pw"))), 429, "BASIC_LOCKED_OUT")
	refused(t, a.Access(t, get("X-Authkit-Test-Panic", "1")), 500, "INTERNAL_ERROR")
	if res := b.Access(t, get("Authorization", basic("mallory", "x"))); res.Exited || res.UpstreamHeaders.Get("X-Anonymous-Consumer") != "true" {
		t.Fatalf("anonymous fallback: %d %s", res.Status, res.Body)
	}
	refused(t, c.Access(t, get()), 500, "CONSUMER_NOT_FOUND")

	m := promtest.Scrape(t, url)
	for _, x := range []struct {
		route, outcome, code string
		want                 float64
	}{
		{a.RouteID, "accepted", "", 3},
		{a.RouteID, "refused", "BASIC_MISSING", 2},
		{a.RouteID, "refused", "BASIC_MALFORMED", 1},
		{a.RouteID, "refused", "BASIC_INVALID_CREDENTIALS", 2},
		{a.RouteID, "refused", "BASIC_LOCKED_OUT", 1},
		{a.RouteID, "refused", "INTERNAL_ERROR", 1},
		{b.RouteID, "anonymous", "BASIC_INVALID_CREDENTIALS", 1},
		{c.RouteID, "refused", "CONSUMER_NOT_FOUND", 1},
	} {
		labels := map[string]string{"plugin": "authkit-basic", "route_id": x.route, "outcome": x.outcome, "code": x.code}
		if got := m.Sum("authkit_decisions_total", labels); got != x.want {
			t.Errorf("decisions %v = %v, want %v", labels, got, x.want)
		}
	}
	if got := m.Sum("authkit_decisions_total", nil); got != 12 {
		t.Errorf("%v decisions, want 12: %v", got, m.Series("authkit_decisions_total"))
	}
	// The mixed-scheme warning: once per compiled config, on its first request.
	for _, inst := range []*kongwire.Instance{a, b, c} {
		if got := m.Sum("authkit_warnings_total", map[string]string{"route_id": inst.RouteID, "code": "CONFIG_INVALID"}); got != 1 {
			t.Errorf("route %s: %v config warnings, want 1", inst.RouteID, got)
		}
	}
	for _, x := range []struct {
		cache      string
		hits, miss float64
	}{
		// alice: miss, hit, hit; bob's two guesses and mallory: misses
		// (a locked pair is refused before the cache).
		{"passwords", 2, 4},
		// alice: miss, hit, hit; anonymous and ghost: one miss each.
		{"consumers", 2, 3},
	} {
		h := m.Sum("authkit_cache_hits_total", map[string]string{"cache": x.cache})
		miss := m.Sum("authkit_cache_misses_total", map[string]string{"cache": x.cache})
		if h != x.hits || miss != x.miss {
			t.Errorf("cache %s: %v hits, %v misses; want %v and %v", x.cache, h, miss, x.hits, x.miss)
		}
	}
	promtest.CheckVocabulary(t, m, []string{"authkit-basic"}, []string{a.RouteID, b.RouteID, c.RouteID})
}

// 10,000 distinct users (and passwords, and client addresses), each an
// unknown user that costs the fake hash: counts grow, series do not.
func TestMetricsUsersAddNoSeries(t *testing.T) {
	const n = 10_000
	// The cheapest argon2id the plugin accepts: the fake hash of unknown
	// users imitates it, so 10,000 of them fit in a test.
	h, err := passwd.HashArgon2id([]byte("alice-pw"), passwd.Argon2Params{Memory: passwd.MinArgon2Memory, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	s, url := metricsPlugin(t)
	inst := s.StartInstance(t, map[string]any{"credentials": []any{map[string]any{"username": "alice", "password_hash": h, "consumer": "alice"}}})
	accepted(t, inst.Access(t, get("Authorization", basic("alice", "alice-pw"))), aliceID, "alice", "alice")
	refused(t, inst.Access(t, get("Authorization", basic("warm-up", "x"))), 401, "BASIC_INVALID_CREDENTIALS")
	before := promtest.Scrape(t, url)

	// Two at a time: the machine has two cores.
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for range n / 2 {
				r := get("Authorization", basic(randomHex(12)+"@"+randomHex(6), randomHex(16)),
					"X-Route-Id", randomHex(36), "X-Consumer-Username", randomHex(10), "Outcome", "accepted")
				r.ClientIP = "198.51.100." + []string{"7", "8"}[w]
				refused(t, inst.Access(t, r), 401, "BASIC_INVALID_CREDENTIALS")
			}
		})
	}
	wg.Wait()
	after := promtest.Scrape(t, url)
	if b, a := before.Series("authkit_"), after.Series("authkit_"); !slices.Equal(b, a) {
		t.Errorf("%d distinct users changed the series: %d before, %d after", n, len(b), len(a))
	}
	invalid := map[string]string{"route_id": inst.RouteID, "outcome": "refused", "code": "BASIC_INVALID_CREDENTIALS"}
	if got := after.Sum("authkit_decisions_total", invalid) - before.Sum("authkit_decisions_total", invalid); got != n {
		t.Errorf("BASIC_INVALID_CREDENTIALS grew by %v, want %d", got, n)
	}
	miss := map[string]string{"cache": "passwords"}
	if got := after.Sum("authkit_cache_misses_total", miss) - before.Sum("authkit_cache_misses_total", miss); got != n {
		t.Errorf("password cache misses grew by %v, want %d (each unknown user costs a hash)", got, n)
	}
	promtest.CheckVocabulary(t, after, []string{"authkit-basic"}, []string{inst.RouteID})
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
