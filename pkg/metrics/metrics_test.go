package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	. "github.com/kong-authkit/kong-authkit/pkg/metrics"
)

func init() { Enable("authkit-test", "1.2.3") }

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		":9542":          "127.0.0.1:9542",
		"127.0.0.1:9542": "127.0.0.1:9542",
		"0.0.0.0:9542":   "0.0.0.0:9542",
		"[::1]:9542":     "[::1]:9542",
		"localhost:0":    "localhost:0",
	} {
		if got, err := ListenAddr(in); err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "9542", "127.0.0.1", "127.0.0.1:", ":"} {
		if got, err := ListenAddr(bad); err == nil {
			t.Errorf("ListenAddr(%q) = %q, want an error", bad, got)
		}
	}
}

// A port with no host binds loopback only, and the endpoint serves the
// metrics on /metrics and nothing elsewhere.
func TestServeLoopbackByDefault(t *testing.T) {
	ml, err := Serve(":0", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer ml.Close()
	addr := ml.Addr()
	tcp := addr.(*net.TCPAddr)
	if !tcp.IP.IsLoopback() {
		t.Fatalf("bound %s, want loopback", addr)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `authkit_plugin_info{plugin="authkit-test",version="1.2.3"} 1`) {
		t.Fatalf("%s\n%s", resp.Status, body)
	}
	resp, err = http.Get("http://" + addr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/ answered %s", resp.Status)
	}
	// Close frees the port for a successor.
	if err := ml.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Serve(addr.String(), t.Logf)
	if err != nil {
		t.Fatalf("the port was not freed: %v", err)
	}
	again.Close()
}

// A listener that cannot bind is an error for the caller to log, not a
// panic or an exit.
func TestServeBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := Serve(l.Addr().String(), t.Logf); err == nil {
		t.Fatal("listening on a busy port succeeded")
	}
}

func TestDecisions(t *testing.T) {
	r := ForRoute("authkit-test", "route-decisions")
	if ForRoute("authkit-test", "route-decisions") != r {
		t.Fatal("ForRoute does not share the Route")
	}
	r.Decision(errcode.OutcomeAccepted, "")
	r.Decision(errcode.OutcomeAccepted, errcode.TokenExpired) // the code of an acceptance is dropped
	r.Decision(errcode.OutcomeRefused, errcode.TokenExpired)
	r.Decision(errcode.OutcomeRefused, errcode.TokenExpired)
	r.Decision(errcode.OutcomeAnonymous, errcode.APIKeyInvalid)
	r.Decision(errcode.OutcomeRefused, "NOT_A_CATALOG_CODE") // counted as INTERNAL_ERROR
	r.Decision("maybe", errcode.TokenExpired)                // not an outcome: not counted
	r.Warning(errcode.ProviderUnreachable)

	s := promtest.Gather(t, Gatherer())
	route := map[string]string{"plugin": "authkit-test", "route_id": "route-decisions"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range route {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{with("outcome", "accepted", "code", ""), 2},
		{with("outcome", "refused", "code", "OAUTH_TOKEN_EXPIRED"), 2},
		{with("outcome", "anonymous", "code", "APIKEY_INVALID"), 1},
		{with("outcome", "refused", "code", "INTERNAL_ERROR"), 1},
		{route, 6},
	} {
		if got := s.Sum("authkit_decisions_total", c.labels); got != c.want {
			t.Errorf("decisions %v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := s.Sum("authkit_warnings_total", with("code", "OAUTH_PROVIDER_UNREACHABLE")); got != 1 {
		t.Errorf("warnings = %v", got)
	}
	for _, v := range s.LabelValues("authkit_decisions_total", "code") {
		if _, ok := errcode.Lookup(errcode.Code(v)); !ok && v != "" {
			t.Errorf("code label %q is not in the catalog", v)
		}
	}
}

func TestProviderCacheEvent(t *testing.T) {
	before := promtest.Gather(t, Gatherer())
	start := time.Now().Add(-30 * time.Millisecond)
	ProviderCall(EndpointJWKS, start, nil)
	ProviderCall(EndpointJWKS, start, errcode.New(errcode.ProviderTimeout, "slow"))
	ProviderCall(EndpointIntrospection, start, fmt.Errorf("wrapped: %w", errcode.New(errcode.ProviderError, "500")))
	ProviderCall(EndpointDiscovery, start, errors.New("not a catalog error")) // INTERNAL_ERROR
	CacheLookup(CacheJWKS, true)
	CacheLookup(CacheJWKS, false)
	CacheLookup(CacheJWKS, true)
	began := EventStart()
	time.Sleep(time.Millisecond)
	Event("access", began, 2)
	Event("nonsense", EventStart(), 9)
	after := promtest.Gather(t, Gatherer())

	delta := func(name string, labels map[string]string) float64 {
		return after.Sum(name, labels) - before.Sum(name, labels)
	}
	p := map[string]string{"plugin": "authkit-test"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"authkit_provider_request_duration_seconds_count", map[string]string{"endpoint": "jwks", "code": ""}, 1},
		{"authkit_provider_request_duration_seconds_count", map[string]string{"endpoint": "jwks", "code": "OAUTH_PROVIDER_TIMEOUT"}, 1},
		{"authkit_provider_request_duration_seconds_count", map[string]string{"endpoint": "introspection", "code": "OAUTH_PROVIDER_ERROR"}, 1},
		{"authkit_provider_request_duration_seconds_count", map[string]string{"endpoint": "discovery", "code": "INTERNAL_ERROR"}, 1},
		{"authkit_provider_request_duration_seconds_bucket", map[string]string{"endpoint": "jwks", "code": "", "le": "0.025"}, 0},
		{"authkit_provider_request_duration_seconds_bucket", map[string]string{"endpoint": "jwks", "code": "", "le": "0.05"}, 1},
		{"authkit_cache_hits_total", map[string]string{"cache": "jwks"}, 2},
		{"authkit_cache_misses_total", map[string]string{"cache": "jwks"}, 1},
		{"authkit_pdk_round_trips_count", map[string]string{"phase": "access"}, 1},
		{"authkit_pdk_round_trips_sum", map[string]string{"phase": "access"}, 2},
		{"authkit_event_duration_seconds_count", map[string]string{"phase": "access"}, 1},
		{"authkit_event_duration_seconds_count", p, 1},
	} {
		if got := delta(c.name, c.labels); got != c.want {
			t.Errorf("%s %v grew by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Every cache has its series from the start.
	for _, c := range Caches() {
		if !strings.Contains(strings.Join(after.Series("authkit_cache_misses_total"), "\n"), `cache="`+c.String()+`"`) {
			t.Errorf("no series for cache %s", c)
		}
	}
	// The process-level series carry the plugin label.
	for _, key := range after.Series("authkit_") {
		if !strings.Contains(key, `plugin="authkit-test"`) {
			t.Errorf("series without the plugin label: %s", key)
		}
	}
}

// Off, every recording function returns at once.
func BenchmarkDecisionOff(b *testing.B) { benchDecision(b, false) }
func BenchmarkDecisionOn(b *testing.B)  { benchDecision(b, true) }

func benchDecision(b *testing.B, enabled bool) {
	defer SetRecording(SetRecording(enabled))
	r := ForRoute("authkit-bench", "route")
	b.ReportAllocs()
	for b.Loop() {
		r.Decision(errcode.OutcomeRefused, errcode.TokenExpired)
	}
}

func BenchmarkEventOff(b *testing.B) { benchEvent(b, false) }
func BenchmarkEventOn(b *testing.B)  { benchEvent(b, true) }

// benchEvent is what pluginserver adds to every event: EventStart, then
// Event (two clock reads and two histogram observations when on).
func benchEvent(b *testing.B, enabled bool) {
	defer SetRecording(SetRecording(enabled))
	b.ReportAllocs()
	for b.Loop() {
		Event("access", EventStart(), 2)
	}
}

func BenchmarkCacheLookupOff(b *testing.B) { benchCache(b, false) }
func BenchmarkCacheLookupOn(b *testing.B)  { benchCache(b, true) }

func benchCache(b *testing.B, enabled bool) {
	defer SetRecording(SetRecording(enabled))
	b.ReportAllocs()
	for b.Loop() {
		CacheLookup(CacheConsumers, true)
	}
}

// The catalog is what the registry exposes: every authkit_* family
// gathered is in it with the same type and labels, and every entry was
// gathered.
func TestCatalogIsTheRegistry(t *testing.T) {
	r := ForRoute("authkit-test", "route-catalog")
	r.Decision(errcode.OutcomeRefused, errcode.TokenExpired)
	r.Warning(errcode.ProviderTimeout)
	ProviderCall(EndpointJWKS, time.Now(), nil)
	Event("access", EventStart(), 2)
	fams, err := Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	cat := map[string]Metric{}
	for _, m := range Catalog() {
		cat[m.Name] = m
	}
	seen := map[string]bool{}
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, Namespace+"_") {
			continue
		}
		m, ok := cat[name]
		if !ok {
			t.Errorf("%s is exposed but not in the catalog", name)
			continue
		}
		seen[name] = true
		if got := strings.ToLower(f.GetType().String()); got != m.Type {
			t.Errorf("%s: type %s, catalog says %s", name, got, m.Type)
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		if !sameLabels(labels, m.Labels) {
			t.Errorf("%s: labels %v, catalog says %v", name, labels, m.Labels)
		}
	}
	for name := range cat {
		if !seen[name] {
			t.Errorf("%s is in the catalog but was not exposed", name)
		}
	}
}

func sameLabels(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		if !set[x] {
			return false
		}
	}
	return true
}
