package e2e

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/churntest"
	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// churnDoc is change i of TestConfigChurnInKong: a new route id, a rotated
// Redis password and timeout_ms, a new jwks_uri and introspection endpoint.
func churnDoc(t testing.TB, prov string, redisPort, i int) []byte {
	var id [16]byte
	rand.Read(id[:])
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
	rid := fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
	r := route("churn", "/churn", plugin("request-termination", obj{"status_code": 200, "message": "ok"}),
		plugin("authkit-oauth", obj{"token_mode": "auto", "jwks_uri": fmt.Sprintf("%s/jwks?r=%d", prov, i),
			"introspection_endpoint": fmt.Sprintf("%s/introspect?r=%d", prov, i), "introspection_client_id": "gw",
			"introspection_client_secret": "gw-secret", "introspection_cache_ttl_seconds": 1, "allowed_issuers": []any{"https://issuer.example"}, "policy": "redis", "fault_tolerant": false,
			"redis": obj{"host": "127.0.0.1", "port": redisPort, "username": "churn", "password": fmt.Sprintf("churn-%d", i),
				"timeout_ms": 2000 + i%7, "key_prefix": "churn:"}}))
	r["id"] = rid
	return marshal(t, obj{"_format_version": "3.0", "services": []any{obj{"name": "term", "url": "http://127.0.0.1:9", "routes": []any{r}}}})
}

// Issue 23's churn in a real Kong 3.9: config changes by POST /config (200
// by default, AUTHKIT_KONG_CHURN_CHANGES for more), each rotating the route
// id, the Redis password (old ones stay valid for three changes, as in a
// real rotation) and timeout_ms, the jwks_uri and the introspection
// endpoint, with a request after each. A new route id makes a new plugin
// id (observed: a plugin without an explicit id gets one derived from its
// route), so Kong never
// closes the old instance: it is a deleted plugin's, and the plugin
// server's reaper frees it once idle. The plugin process must end where it
// started. The graces and the idle timeout are shortened by the test knob.
func TestConfigChurnInKong(t *testing.T) {
	realkong.Require(t)
	srv := redistest.Start(t, redistest.Options{})
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"active":true,"iss":"https://issuer.example","sub":"svc","client_id":"web","scope":"read","exp":%d}`, time.Now().Add(time.Hour).Unix())
	}))
	t.Cleanup(prov.Close)
	t.Setenv(pluginserver.EnvTestLifetimes, "200ms,2s")
	addr := freeAddr(t)
	rotate := func(i int) {
		args := []string{"ACL", "SETUSER", "churn", "on", fmt.Sprintf(">churn-%d", i), "~churn:*", "+@all"}
		if i >= 3 {
			args = append(args, fmt.Sprintf("<churn-%d", i-3))
		}
		if out, err := srv.Cmd(args...); err != nil || out != "OK" {
			t.Fatalf("%v: %q %v", args, out, err)
		}
	}
	rotate(0)
	g := realkong.Start(t, realkong.Options{BinDir: realkong.BuildPlugins(t), Plugins: []string{"authkit-oauth"},
		Config: churnDoc(t, prov.URL, srv.Port, 0), PluginArgs: map[string][]string{"authkit-oauth": {"-metrics-listen", addr}},
		Env: map[string]string{"KONG_NGINX_MAIN_ENV": pluginserver.EnvTestLifetimes}})
	g.WaitStatus(t, "/churn", http.StatusUnauthorized, 30*time.Second)
	unplugged := 0
	change := func(i int) {
		rotate(i)
		if st, body := g.PostConfig(t, churnDoc(t, prov.URL, srv.Port, i)); st != http.StatusCreated {
			t.Fatalf("change %d: POST /config %d %s", i, st, body)
		}
		// Right after POST /config, Kong 3.9.3 may route a request by the
		// new router before the plugins iterator knows the new route id:
		// no plugin runs and the request goes to the service (here a
		// closed port: 502). Such a request is retried, and counted.
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := get(t, g, "/churn", "Authorization", fmt.Sprintf("Bearer opaque-%d", i))
			if r.Status == 200 {
				break
			}
			if r.Status != http.StatusBadGateway || time.Now().After(deadline) {
				t.Fatalf("change %d: %d %s", i, r.Status, r.Body)
			}
			unplugged++
			time.Sleep(10 * time.Millisecond)
		}
	}
	for i := 1; i <= 10; i++ {
		change(i)
	}
	last := 10
	w := churntest.Target{Pid: g.PluginPID("authkit-oauth"), Metrics: "http://" + addr + "/metrics", Redis: srv, RedisUser: "churn",
		// A request per observation keeps the live instance from being
		// reaped (test idle timeout: 2 s); the old ones get none.
		Poke: func() {
			if r := get(t, g, "/churn", "Authorization", fmt.Sprintf("Bearer opaque-%d", last)); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}}
	before, ok := w.Settle(t, 20*time.Second, func(f churntest.Figures) bool { return f.Pools == 1 && f.Compiled == 1 && f.Routes == 1 })
	if !ok {
		t.Fatalf("the warm-up did not settle: %s", before)
	}
	n := 200
	if v, err := strconv.Atoi(os.Getenv("AUTHKIT_KONG_CHURN_CHANGES")); err == nil && v > 0 {
		n = v
	}
	start := time.Now()
	for i := 11; i < 11+n; i++ {
		change(i)
		last = i
	}
	t.Logf("%d changes in %s; %d requests reached the service with no plugin run (Kong's router ahead of its plugins iterator)",
		n, time.Since(start).Round(time.Millisecond), unplugged)
	after, ok := w.Settle(t, 20*time.Second, func(f churntest.Figures) bool {
		return f.Pools <= before.Pools && f.Compiled <= before.Compiled && f.Routes <= before.Routes &&
			f.Series <= before.Series+2 && f.RedisConns <= before.RedisConns+2 &&
			f.FDs <= before.FDs+4 && f.Goroutines <= before.Goroutines+4 && f.HeapLiveMiB <= before.HeapLiveMiB+8
	})
	t.Logf("before: %s", before)
	t.Logf("after:  %s", after)
	if !ok {
		t.Fatal("the plugin process did not come back within bounds of where it started")
	}
	if pid := g.PluginPID("authkit-oauth"); pid != w.Pid {
		t.Fatalf("the plugin process changed (%d → %d)", w.Pid, pid)
	}
}
