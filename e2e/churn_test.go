package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// churnChanges is how many config changes TestConfigChurnInKong makes:
// AUTHKIT_CHURN_CHANGES, default 150 (a 1,000-change run is the same test
// with the variable set; the closing figures come from one).
func churnChanges(t *testing.T) int {
	if v := os.Getenv("AUTHKIT_CHURN_CHANGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("AUTHKIT_CHURN_CHANGES=%q", v)
		}
		return n
	}
	return 150
}

// churnProvider answers every /jwks/<n> with the signer's key set and every
// /introspect/<n> with an active answer: each config change can name new
// URLs of the same provider.
func churnProvider(t *testing.T, s *signer) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/jwks/"):
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{s.jwk()}})
		case strings.HasPrefix(r.URL.Path, "/introspect/"):
			fmt.Fprintf(w, `{"active":true,"sub":"svc","client_id":"web","scope":"read","exp":%d}`, time.Now().Add(time.Hour).Unix())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// churnConfig is change n: every route has a new id, the Redis password,
// timeout and key prefix stay those of the cluster but the password
// rotates, and the JWKS URL and introspection endpoint are new.
func churnConfig(n int, redisPort int, password, provider, hash string) obj {
	redis := obj{"host": "127.0.0.1", "port": redisPort, "username": "authkit", "password": password,
		"timeout_ms": 1000 + n%500, "key_prefix": "churn:"}
	id := func(k int) string { return fmt.Sprintf("00000000-0000-4000-8000-%04d%08d", k, n) }
	withID := func(r obj, k int) obj { r["id"] = id(k); return r }
	return obj{
		"_format_version": "3.0",
		"consumers":       []any{obj{"username": "alice"}},
		"services": []any{obj{"name": "churn", "url": "http://127.0.0.1:9", "routes": []any{
			withID(route("churn-version", "/churn/version", plugin("request-termination", obj{"status_code": 200, "message": fmt.Sprintf("v%d", n)})), 0),
			withID(route("churn-basic", "/churn/basic", plugin("request-termination", obj{"status_code": 200, "message": "ok"}),
				plugin("authkit-basic", obj{"credentials": []any{obj{"username": "alice", "password_hash": hash, "consumer": "alice"}},
					"max_failures": 5, "lockout_seconds": 60, "policy": "redis", "redis": redis, "fault_tolerant": false})), 1),
			withID(route("churn-jwt", "/churn/jwt", plugin("request-termination", obj{"status_code": 200, "message": "ok"}),
				plugin("authkit-oauth", obj{"jwks_uri": fmt.Sprintf("%s/jwks/%d", provider, n), "allowed_issuers": []any{"https://churn.example"},
					"http_timeout_ms": 2000 + n%500})), 2),
			withID(route("churn-intro", "/churn/intro", plugin("request-termination", obj{"status_code": 200, "message": "ok"}),
				plugin("authkit-oauth", obj{"token_mode": "introspection", "introspection_endpoint": fmt.Sprintf("%s/introspect/%d", provider, n),
					"introspection_client_id": "gw", "introspection_client_secret": "gw-secret",
					"policy": "redis", "redis": redis, "fault_tolerant": false})), 3),
		}}},
	}
}

// waitVersion polls until Kong's worker serves change n (POST /config
// answers before the workers have rebuilt their router).
func waitVersion(t *testing.T, g *realkong.Gateway, n int) {
	t.Helper()
	want := fmt.Sprintf("v%d", n)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := get(t, g, "/churn/version")
		if r.Status == 200 && strings.Contains(string(r.Body), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("change %d not served after 20 s: %d %s", n, r.Status, r.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// churnSample is what a plugin process holds.
type churnSample struct {
	fds, goroutines, series int
	heapMB                  float64
}

func sampleChurn(t *testing.T, metricsURL string) churnSample {
	s := promtest.Scrape(t, metricsURL)
	return churnSample{
		fds:        int(s.Sum("process_open_fds", nil)),
		goroutines: int(s.Sum("go_goroutines", nil)),
		series:     len(s.Series("authkit_decisions_total")) + len(s.Series("authkit_warnings_total")),
		heapMB:     s.Sum("go_memstats_heap_inuse_bytes", nil) / (1 << 20),
	}
}

// TestConfigChurnInKong: config changes in one real Kong, each rotating
// the Redis password and timeout, the JWKS URL, the introspection
// endpoint and every route id, with requests in between. No request
// fails, the plugin processes are never restarted, and what they hold —
// file descriptors, goroutines, Redis connections, metric series, heap —
// ends within a small constant of where it started (issue 23).
func TestConfigChurnInKong(t *testing.T) {
	realkong.Require(t)
	changes := churnChanges(t)
	const admin = "churn-admin-password"
	rs := redistest.Start(t, redistest.Options{Password: admin})
	s := newSigner(t, "churn-1")
	prov := churnProvider(t, s)
	hash := bcryptHash(t, alicePassword)
	password := func(n int) string { return fmt.Sprintf("churn-password-%d", n) }
	rotate := func(n int) {
		t.Helper()
		args := []string{"ACL", "SETUSER", "authkit", "on", ">" + password(n), "~churn:*", "+@all"}
		if n > 1 { // the previous password stays valid until the next change
			args = append(args, "<"+password(n-2))
		}
		if out, err := rs.AuthCmd(admin, args...); err != nil || out != "OK" {
			t.Fatalf("rotating the Redis password: %q %v", out, err)
		}
	}
	rotate(0)
	bin := realkong.BuildPlugins(t)
	addrs := map[string]string{"authkit-basic": freeAddr(t), "authkit-oauth": freeAddr(t)}
	g := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: []string{"authkit-basic", "authkit-oauth"},
		Config: marshal(t, churnConfig(0, rs.Port, password(0), prov.URL, hash)),
		PluginArgs: map[string][]string{
			"authkit-basic": {"-metrics-listen", addrs["authkit-basic"]},
			"authkit-oauth": {"-metrics-listen", addrs["authkit-oauth"]}}})
	jwt := s.mint(t, claims("https://churn.example", "exp", time.Now().Add(time.Hour).Unix()))
	requests := func(n int) {
		t.Helper()
		for _, c := range []struct{ path, auth string }{
			{"/churn/basic", basicAuth("alice", alicePassword)},
			{"/churn/jwt", "Bearer " + jwt},
			{"/churn/intro", fmt.Sprintf("Bearer opaque-churn-%d", n)},
		} {
			if r := get(t, g, c.path, "Authorization", c.auth); r.Status != 200 {
				t.Fatalf("change %d, %s: %d %s", n, c.path, r.Status, r.Body)
			}
		}
	}
	g.WaitStatus(t, "/churn/jwt", http.StatusUnauthorized, 20*time.Second)
	requests(0)
	pids := map[string]int{"authkit-basic": g.PluginPID("authkit-basic"), "authkit-oauth": g.PluginPID("authkit-oauth")}
	redisClients := func() int {
		out, err := rs.AuthCmd(admin, "CLIENT", "LIST")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(out, "user=authkit ")
	}
	start := map[string]churnSample{}
	for p, a := range addrs {
		start[p] = sampleChurn(t, "http://"+a+"/metrics")
	}
	startRedis := redisClients()
	began := time.Now()
	for n := 1; n <= changes; n++ {
		rotate(n)
		if st, body := g.PostConfig(t, marshal(t, churnConfig(n, rs.Port, password(n), prov.URL, hash))); st != http.StatusCreated {
			t.Fatalf("change %d: POST /config %d %s", n, st, body)
		}
		waitVersion(t, g, n)
		requests(n)
	}
	t.Logf("%d config changes with requests in %v", changes, time.Since(began).Round(time.Millisecond))
	for p, pid := range pids {
		if now := g.PluginPID(p); now != pid {
			t.Fatalf("%s was restarted during the churn (pid %d → %d)", p, pid, now)
		}
	}
	checkChurnBounds(t, addrs, start, startRedis, redisClients)
}

// checkChurnBounds polls until every figure is within its bound of the
// start (releases follow grace periods), then logs the figures.
func checkChurnBounds(t *testing.T, addrs map[string]string, start map[string]churnSample, startRedis int, redisClients func() int) {
	deadline := time.Now().Add(time.Minute)
	for {
		var problems []string
		end := map[string]churnSample{}
		for p, a := range addrs {
			e, s := sampleChurn(t, "http://"+a+"/metrics"), start[p]
			end[p] = e
			if e.fds > s.fds+16 {
				problems = append(problems, fmt.Sprintf("%s fds %d → %d", p, s.fds, e.fds))
			}
			if e.goroutines > s.goroutines+16 {
				problems = append(problems, fmt.Sprintf("%s goroutines %d → %d", p, s.goroutines, e.goroutines))
			}
			if e.series > s.series+8 {
				problems = append(problems, fmt.Sprintf("%s metric series %d → %d", p, s.series, e.series))
			}
			if e.heapMB > s.heapMB+32 {
				problems = append(problems, fmt.Sprintf("%s heap %.1f → %.1f MiB", p, s.heapMB, e.heapMB))
			}
		}
		rc := redisClients()
		if rc > startRedis+8 {
			problems = append(problems, fmt.Sprintf("Redis connections %d → %d", startRedis, rc))
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			for p := range addrs {
				t.Logf("%s: start %+v end %+v", p, start[p], end[p])
			}
			t.Logf("Redis connections: start %d end %d", startRedis, rc)
			if len(problems) > 0 {
				t.Fatalf("after the churn: %s", strings.Join(problems, "; "))
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
