package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/promtest"
)

// metricsPlugin starts the binary with -metrics-listen on a free loopback
// port, as a START_CMD would.
func metricsPlugin(t *testing.T) (*kongwire.Server, string) {
	t.Helper()
	s := kongwire.StartArgs(t, kongwire.Build(t, "authkit-key"), []string{"-metrics-listen", "127.0.0.1:0"})
	s.SetConsumers(
		kongwire.Consumer{ID: aliceID, Username: "alice"},
		kongwire.Consumer{ID: bobID, Username: "bob"},
		kongwire.Consumer{ID: anonID, Username: "anonymous"},
	)
	return s, s.MetricsURL(t)
}

// A scripted mix of requests through the real binary: the scrape has
// exactly the counts sent, per route, outcome and code.
func TestMetricsCountWhatWasSent(t *testing.T) {
	s, url := metricsPlugin(t)
	a := s.StartInstance(t, map[string]any{"credentials": creds()})
	b := s.StartInstance(t, map[string]any{"credentials": creds(), "anonymous": "anonymous"})

	trips := 0
	send := func(inst *kongwire.Instance, n int, r *kongwire.Request) {
		for range n {
			trips += inst.Access(t, r).RoundTrips() + 1 // the event is one more
		}
	}
	send(a, 5, req("GET", "", "", "apikey", "alice-new-key"))
	send(a, 3, req("GET", "", ""))
	send(a, 4, req("GET", "", "", "apikey", "nope"))
	send(a, 2, req("GET", "", "", "apikey", "bob-expired-key"))
	send(a, 1, req("GET", "", "", "apikey", "alice-new-key", "apikey", "other"))
	send(b, 2, req("GET", "", "", "apikey", "nope"))
	send(b, 1, req("GET", "", "", "apikey", "alice-new-key"))

	m := promtest.Scrape(t, url)
	for _, c := range []struct {
		route, outcome, code string
		want                 float64
	}{
		{a.RouteID, "accepted", "", 5},
		{a.RouteID, "refused", "APIKEY_MISSING", 3},
		{a.RouteID, "refused", "APIKEY_INVALID", 4},
		{a.RouteID, "refused", "APIKEY_EXPIRED", 2},
		{a.RouteID, "refused", "APIKEY_DUPLICATE", 1},
		{b.RouteID, "anonymous", "APIKEY_INVALID", 2},
		{b.RouteID, "accepted", "", 1},
	} {
		labels := map[string]string{"plugin": "authkit-key", "route_id": c.route, "outcome": c.outcome, "code": c.code}
		if got := m.Sum("authkit_decisions_total", labels); got != c.want {
			t.Errorf("decisions %v = %v, want %v", labels, got, c.want)
		}
	}
	if got := m.Sum("authkit_decisions_total", nil); got != 18 {
		t.Errorf("%v decisions in all, want 18:\n%v", got, m.Series("authkit_decisions_total"))
	}
	// Every event is timed, and its round trips are the harness's count.
	access := map[string]string{"plugin": "authkit-key", "phase": "access"}
	if got := m.Sum("authkit_pdk_round_trips_count", access); got != 18 {
		t.Errorf("%v access events, want 18", got)
	}
	if got := m.Sum("authkit_pdk_round_trips_sum", access); got != float64(trips) {
		t.Errorf("%v round trips recorded, the harness counted %d", got, trips)
	}
	if got := m.Sum("authkit_event_duration_seconds_count", access); got != 18 {
		t.Errorf("%v timed events", got)
	}
	// Consumers: alice and the anonymous consumer are loaded once each
	// (StartInstance loads nothing), every other acceptance is a hit.
	if h, miss := m.Sum("authkit_cache_hits_total", map[string]string{"cache": "consumers"}), m.Sum("authkit_cache_misses_total", map[string]string{"cache": "consumers"}); h != 6 || miss != 2 {
		t.Errorf("consumer cache: %v hits, %v misses; want 6 and 2", h, miss)
	}
	if got := m.Sum("authkit_plugin_info", map[string]string{"plugin": "authkit-key", "version": Version}); got != 1 {
		t.Errorf("authkit_plugin_info: %v", got)
	}
	if m.Sum("go_goroutines", nil) == 0 || m.Sum("process_start_time_seconds", nil) == 0 {
		t.Error("no Go runtime or process collector")
	}
	promtest.CheckVocabulary(t, m, []string{"authkit-key"}, []string{a.RouteID, b.RouteID})
}

// Cardinality: 10,000 distinct keys, with hostile headers and query
// strings around them, add counts but not one series, and no label value
// comes from the requests.
func TestMetricsLabelsIgnoreClientInput(t *testing.T) {
	const n = 10_000
	s, url := metricsPlugin(t)
	inst := s.StartInstance(t, map[string]any{"credentials": creds()})
	// One of each outcome first: the series the flood may add to.
	inst.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	inst.Access(t, req("GET", "", "", "apikey", "warm-up-unknown"))
	inst.Access(t, req("GET", "page=1&apikey=warm-up-query", ""))
	before := promtest.Scrape(t, url)

	for i := range n {
		key := randomString(24)
		r := req("GET", "apikey="+key+"&route_id="+randomString(8)+"&code="+randomString(6), "")
		r.Headers = http.Header{
			"X-Route-Id":            {randomString(36)},
			"X-Plugin":              {"authkit-" + randomString(5)},
			"Outcome":               {"accepted"},
			"X-" + randomString(10): {randomString(40) + `"} route_id="x" é ☃ # HELP`},
			"User-Agent":            {randomString(20)},
		}
		if i%2 == 0 { // half in the header instead of the query
			r.RawQuery = "x=" + randomString(4)
			r.Headers.Set("apikey", key)
		}
		refused(t, inst.Access(t, r), 401, "APIKEY_INVALID")
	}
	after := promtest.Scrape(t, url)

	if b, a := before.Series("authkit_"), after.Series("authkit_"); !slices.Equal(b, a) {
		t.Errorf("%d distinct keys changed the series: %d before, %d after\nnew: %v", n, len(b), len(a), newSeries(b, a))
	}
	invalid := map[string]string{"route_id": inst.RouteID, "outcome": "refused", "code": "APIKEY_INVALID"}
	if got := after.Sum("authkit_decisions_total", invalid) - before.Sum("authkit_decisions_total", invalid); got != n {
		t.Errorf("APIKEY_INVALID grew by %v, want %d", got, n)
	}
	promtest.CheckVocabulary(t, after, []string{"authkit-key"}, []string{inst.RouteID})
}

func newSeries(before, after []string) []string {
	var out []string
	for _, s := range after {
		if !slices.Contains(before, s) {
			out = append(out, s)
		}
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("… %d more", len(out)-10))
	}
	return out
}

func randomString(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// -metrics-listen on Kong's query command changes nothing: -dump's stdout
// is the same one JSON object (go-pdk's encoder orders map keys at random,
// so the documents are compared, not the bytes), and nothing listens.
func TestMetricsFlagLeavesDumpAlone(t *testing.T) {
	bin := kongwire.Build(t, "authkit-key")
	run := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	doc := func(out string) any {
		t.Helper()
		var v any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&v); err != nil || strings.TrimSpace(out[dec.InputOffset():]) != "" {
			t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out)
		}
		return v
	}
	plain, _ := run("-dump")
	with, stderr := run("-dump", "-metrics-listen", "127.0.0.1:0")
	if !reflect.DeepEqual(doc(plain), doc(with)) {
		t.Fatalf("-dump changed with -metrics-listen:\n%s\n---\n%s", plain, with)
	}
	if strings.Contains(stderr, kongwire.MetricsMarker) {
		t.Fatalf("-dump started the metrics listener: %s", stderr)
	}
	kongwire.Dump(t, bin) // and it is what Kong accepts
}

// AUTHKIT_METRICS_LISTEN works when the variable reaches the process
// (Kong passes it only with KONG_NGINX_MAIN_ENV); a host-less address binds
// loopback.
func TestMetricsFromEnvironment(t *testing.T) {
	port := freePort(t)
	s := kongwire.Start(t, kongwire.Build(t, "authkit-key"), "AUTHKIT_METRICS_LISTEN=:"+port)
	if url := s.MetricsURL(t); url != "http://127.0.0.1:"+port+"/metrics" {
		t.Fatalf("serving on %s, want loopback port %s", url, port)
	}
	inst := s.StartInstance(t, map[string]any{"credentials": creds()})
	refused(t, inst.Access(t, req("GET", "", "")), 401, "APIKEY_MISSING")
	m := promtest.Scrape(t, "http://127.0.0.1:"+port+"/metrics")
	if got := m.Sum("authkit_decisions_total", map[string]string{"code": "APIKEY_MISSING"}); got != 1 {
		t.Fatalf("APIKEY_MISSING %v", got)
	}
}

// A metrics address in use (a predecessor that has not let go yet) is
// retried in the background; the plugin serves Kong meanwhile, and the
// decisions made meanwhile are in the first scrape.
func TestMetricsAddressInUseIsRetried(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	s := kongwire.StartArgs(t, kongwire.Build(t, "authkit-key"), []string{"-metrics-listen", addr})
	s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice"})
	inst := s.StartInstance(t, map[string]any{"credentials": creds()})
	refused(t, inst.Access(t, req("GET", "", "")), 401, "APIKEY_MISSING")
	accepted(t, inst.Access(t, req("GET", "", "", "apikey", "alice-new-key")), aliceID, "alice-2026")
	if !slices.ContainsFunc(s.ProcessOutput(), func(l string) bool { return strings.Contains(l, "is in use") }) {
		t.Fatalf("the busy address was not logged:\n%s", strings.Join(s.ProcessOutput(), "\n"))
	}
	busy.Close()
	if url := s.MetricsURL(t); url != "http://"+addr+"/metrics" {
		t.Fatalf("serving on %s, want %s", url, addr)
	}
	m := promtest.Scrape(t, "http://"+addr+"/metrics")
	if got := m.Sum("authkit_decisions_total", map[string]string{"route_id": inst.RouteID}); got != 2 {
		t.Fatalf("%v decisions, want the 2 made while the port was busy", got)
	}
}

// An address that cannot be used is logged; the plugin serves Kong anyway.
func TestMetricsBadAddressKeepsServing(t *testing.T) {
	s := kongwire.StartArgs(t, kongwire.Build(t, "authkit-key"), []string{"-metrics-listen", "9542"})
	inst := s.StartInstance(t, map[string]any{"credentials": creds()})
	refused(t, inst.Access(t, req("GET", "", "")), 401, "APIKEY_MISSING")
	if !slices.ContainsFunc(s.ProcessOutput(), func(l string) bool { return strings.Contains(l, "metrics are off") }) {
		t.Fatalf("the failure was not logged:\n%s", strings.Join(s.ProcessOutput(), "\n"))
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
