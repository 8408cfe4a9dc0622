package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/internal/realkong"
)

// Metrics through a real Kong: authkit-key started by Kong with
// -metrics-listen on its START_CMD (as README and compose.yaml say), a
// scripted mix of requests through Kong's proxy, and the scrape has exactly
// those decisions under Kong's own route id, none of the hostile header
// values as a label, and the PDK round trips Kong made. After `kong
// reload` the new plugin process serves metrics on the same port.
func TestMetricsThroughKong(t *testing.T) {
	realkong.Require(t)
	bin := realkong.BuildPlugins(t)
	up := newUpstream(t)
	addr := freeAddr(t)
	creds := []any{obj{"id": "alice-1", "consumer": "alice", "key_hash": sha256Key("alice-metrics-key")}}
	cfg := obj{
		"_format_version": "3.0",
		"consumers":       []any{obj{"username": "alice"}},
		"services": []any{obj{"name": "metrics-echo", "url": up.srv.URL, "routes": []any{
			route("metrics-key", "/m/key", plugin("authkit-key", obj{"credentials": creds})),
			route("metrics-anon", "/m/anon", plugin("authkit-key", obj{"credentials": creds, "anonymous": "alice"})),
		}}},
	}
	g := realkong.Start(t, realkong.Options{
		BinDir:     bin,
		Plugins:    []string{"authkit-key"},
		Config:     marshal(t, cfg),
		PluginArgs: map[string][]string{"authkit-key": {"-metrics-listen", addr}},
	})
	g.WaitStatus(t, "/m/key", http.StatusUnauthorized, 20*time.Second)
	metricsURL := "http://" + addr + "/metrics"
	before := promtest.Scrape(t, metricsURL) // WaitStatus's requests are in it
	keyRoute, anonRoute := routeID(t, g, "metrics-key"), routeID(t, g, "metrics-anon")

	status := func(r *response, want int) {
		t.Helper()
		if r.Status != want {
			t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
		}
	}
	for range 3 {
		status(get(t, g, "/m/key", "apikey", "alice-metrics-key"), 200)
	}
	for i := range 4 {
		status(get(t, g, "/m/key", "apikey", fmt.Sprintf("random-%d-%d", i, time.Now().UnixNano()),
			"X-Route-Id", "spoofed-route", "Outcome", "accepted", "X-Code", `"}evil`), 401)
	}
	for range 2 {
		status(get(t, g, "/m/key"), 401)
	}
	status(get(t, g, "/m/key", "apikey", "a", "apikey", "b"), 401)
	for range 2 {
		status(get(t, g, "/m/anon", "apikey", "nobody"), 200)
	}

	after := promtest.Scrape(t, metricsURL)
	delta := func(name string, labels map[string]string) float64 {
		return after.Sum(name, labels) - before.Sum(name, labels)
	}
	for _, c := range []struct {
		route, outcome, code string
		want                 float64
	}{
		{keyRoute, "accepted", "", 3},
		{keyRoute, "refused", "APIKEY_INVALID", 4},
		{keyRoute, "refused", "APIKEY_MISSING", 2},
		{keyRoute, "refused", "APIKEY_DUPLICATE", 1},
		{anonRoute, "anonymous", "APIKEY_INVALID", 2},
	} {
		labels := map[string]string{"plugin": "authkit-key", "route_id": c.route, "outcome": c.outcome, "code": c.code}
		if got := delta("authkit_decisions_total", labels); got != c.want {
			t.Errorf("decisions %v grew by %v, want %v", labels, got, c.want)
		}
	}
	if got := delta("authkit_decisions_total", nil); got != 12 {
		t.Errorf("decisions grew by %v, want 12:\n%s", got, strings.Join(after.Series("authkit_decisions_total"), "\n"))
	}
	// One access event per request, each with Kong's round trips (2 for a
	// warm acceptance or refusal; a consumer-cache miss adds one).
	access := map[string]string{"plugin": "authkit-key", "phase": "access"}
	if got := delta("authkit_pdk_round_trips_count", access); got != 12 {
		t.Errorf("%v access events, want 12", got)
	}
	sum := delta("authkit_pdk_round_trips_sum", access)
	t.Logf("12 events through Kong: %v round trips", sum)
	if sum < 24 || sum > 26 {
		t.Errorf("%v round trips for 12 events, want 24 (+1 per consumer-cache miss)", sum)
	}
	promtest.CheckVocabulary(t, after, []string{"authkit-key"}, []string{keyRoute, anonRoute})
	if s := strings.Join(after.Series("authkit_"), "\n"); strings.Contains(s, "spoofed") || strings.Contains(s, "evil") || strings.Contains(s, "random-") {
		t.Fatalf("a client value became a label:\n%s", s)
	}

	// kong reload: a new plugin process; the old one frees the port on
	// SIGTERM and the new one serves metrics there.
	oldPID := g.PluginPID("authkit-key")
	g.Reload(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		get(t, g, "/m/key") // make sure the new process exists and decides
		if pid := g.PluginPID("authkit-key"); pid != 0 && pid != oldPID {
			if m, err := tryScrape(metricsURL); err == nil && m.Sum("authkit_decisions_total", map[string]string{"route_id": keyRoute, "code": "APIKEY_MISSING"}) > 0 &&
				m.Sum("authkit_decisions_total", map[string]string{"route_id": keyRoute, "outcome": "accepted"}) == 0 {
				break // the successor's counters: they started from zero
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after kong reload, no new plugin process serves metrics on %s\n%s", addr, g.ErrorLogTail(40))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// routeID is Kong's id of the route named name (Admin API).
func routeID(t testing.TB, g *realkong.Gateway, name string) string {
	t.Helper()
	resp, err := client.Get(g.AdminURL + "/routes/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.ID == "" {
		t.Fatalf("route %s: %v %s", name, err, resp.Status)
	}
	return r.ID
}

func tryScrape(url string) (promtest.Samples, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return promtest.Parse(resp.Body)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
