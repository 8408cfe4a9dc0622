package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
)

// sample is one request of a load run.
type sample struct {
	at     time.Duration // since the load started
	kind   string        // "valid" (must pass) or "refused" (must never pass)
	path   string
	status int // 0: transport error
	body   string
	reqID  string // X-Kong-Request-Id
}

// load sends requests from several clients until ctx ends: valid JWTs to
// /lc/jwt and valid keys to /lc/key (kind "valid"), and requests without
// credentials (kind "refused"). Each request uses a new connection, so
// both nginx workers get some.
func load(ctx context.Context, t testing.TB, g *realkong.Gateway, clients int, token string) []sample {
	start := time.Now()
	var mu sync.Mutex
	var out []sample
	var wg sync.WaitGroup
	reqs := []struct {
		kind, path string
		h          http.Header
	}{
		{"valid", "/lc/jwt", hdr("Authorization", bearer(token))},
		{"refused", "/lc/jwt", nil},
		{"valid", "/lc/key", hdr("apikey", aliceKey)},
		{"refused", "/lc/key", hdr("apikey", "ak_wrong")},
	}
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := i; ctx.Err() == nil; n++ {
				rq := reqs[n%len(reqs)]
				req, _ := http.NewRequest(http.MethodGet, g.ProxyURL+rq.path, nil)
				for k, v := range rq.h {
					req.Header[k] = v
				}
				s := sample{at: time.Since(start), kind: rq.kind, path: rq.path}
				if resp, err := c.Do(req); err == nil {
					var b [256]byte
					m, _ := resp.Body.Read(b[:])
					resp.Body.Close()
					s.status, s.body, s.reqID = resp.StatusCode, string(b[:m]), resp.Header.Get("X-Kong-Request-Id")
				} else {
					s.body = err.Error()
				}
				mu.Lock()
				out = append(out, s)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// judge fails the test on a refused-kind request that got through (a
// security failure), and returns the 5xx samples.
func judge(t testing.TB, samples []sample) (fiveXX []sample) {
	t.Helper()
	for _, s := range samples {
		if s.kind == "refused" && s.status >= 200 && s.status < 300 {
			t.Errorf("a request without valid credentials got %d at %v: %s", s.status, s.at, s.body)
		}
		if s.status >= 500 || s.status == 0 {
			fiveXX = append(fiveXX, s)
		}
	}
	return fiveXX
}

// logFor returns the error.log lines of the failed samples' requests.
func logFor(g *realkong.Gateway, bad []sample) string {
	var out []string
	for _, line := range strings.Split(g.ErrorLog(), "\n") {
		for _, s := range bad {
			if s.reqID != "" && strings.Contains(line, s.reqID) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// reloadFailures splits the failed requests of a kong reload. Kong 3.9.3
// fails a request itself when the plugin server it talks to is killed in
// the middle of a call: Rpc:call asserts on the send (pb_rpc.lua:284,
// "send() failed (32: Broken pipe)") instead of treating it like a closed
// connection, and when that happens in StartInstance, get_instance_id
// leaves its claim behind, so the worker's next requests for that plugin
// wait 10 s and fail with "Could not claim instance_id"
// (plugin_servers/plugin.lua). Those are kongBug; every other failure
// (e.g. "connection refused": nobody listening, which the plugin server's
// handover prevents) is other.
func reloadFailures(g *realkong.Gateway, bad []sample) (kongBug, other []sample) {
	log := g.ErrorLog()
	for _, s := range bad {
		known := false
		for _, line := range strings.Split(log, "\n") {
			if s.reqID != "" && strings.Contains(line, s.reqID) &&
				(strings.Contains(line, "(32: Broken pipe)") || strings.Contains(line, "Could not claim instance_id")) {
				known = true
				break
			}
		}
		if known {
			kongBug = append(kongBug, s)
		} else {
			other = append(other, s)
		}
	}
	return kongBug, other
}

func summary(samples []sample) string {
	count := map[string]int{}
	for _, s := range samples {
		count[fmt.Sprintf("%s %s:%d", s.path, s.kind, s.status)]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, count[k]))
	}
	return fmt.Sprintf("%d requests: %s", len(samples), strings.Join(parts, " "))
}

type lifecycle struct {
	kong  *realkong.Gateway
	prov  *provider
	token string
}

// lifecycleConfig: authkit-oauth and authkit-key on routes of the echo
// upstream; realm names the config version, so tests can see which
// config answered.
func lifecycleConfig(t testing.TB, up *upstream, prov *provider, version string) []byte {
	return marshal(t, obj{
		"_format_version": "3.0",
		"services": []any{obj{"name": "lc", "url": up.srv.URL, "routes": []any{
			route("lc-jwt", "/lc/jwt", plugin("authkit-oauth", obj{"issuer": prov.issuer(), "audiences": []any{apiAudience},
				"token_mode": "jwt", "realm": version})),
			route("lc-key", "/lc/key", plugin("authkit-key", obj{"realm": version, "credentials": []any{
				obj{"id": "alice-key", "consumer": "alice", "key_hash": sha256Key(aliceKey)}}})),
		}}},
		"consumers": []any{obj{"username": "alice"}},
	})
}

func startLifecycle(t *testing.T) (*lifecycle, *upstream) {
	realkong.Require(t)
	up := newUpstream(t)
	k := newSigner(t, "lc-key-1")
	l := &lifecycle{prov: newProvider(t, k)}
	l.token = k.mint(t, claims(l.prov.issuer()))
	l.kong = realkong.Start(t, realkong.Options{
		BinDir:  realkong.BuildPlugins(t),
		Plugins: []string{"authkit-key", "authkit-oauth"},
		Config:  lifecycleConfig(t, up, l.prov, "v1"),
		Workers: 2,
	})
	l.kong.WaitStatus(t, "/lc/key", 401, 20*time.Second)
	return l, up
}

func (l *lifecycle) realm(t testing.TB) string {
	t.Helper()
	return get(t, l.kong, "/lc/key").Header.Get("WWW-Authenticate")
}

var workerPIDRE = regexp.MustCompile(`\[notice\] (\d+)#\d+: .*pb_rpc\.lua:\d+ authkit \{`)

// TestLifecycle: config changes through POST /config and kong reload under
// load, two nginx workers sharing one plugin process, and a plugin process
// killed with SIGKILL. One Kong of its own: it is restarted and killed.
func TestLifecycle(t *testing.T) {
	l, up := startLifecycle(t)
	g := l.kong

	t.Run("two workers, one plugin process, one key set", func(t *testing.T) {
		pids := map[string]bool{}
		for i := 0; i < 40 && len(pids) < 2; i++ {
			r := send(t, g, http.MethodGet, "/lc/key", hdr("Connection", "close"), "")
			if r.Status != 401 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			r = send(t, g, http.MethodGet, "/lc/jwt", hdr("Authorization", bearer(l.token), "Connection", "close"), "")
			r.echo(t)
			for _, m := range workerPIDRE.FindAllStringSubmatch(g.ErrorLog(), -1) {
				pids[m[1]] = true
			}
		}
		if len(pids) != 2 {
			t.Fatalf("authkit lines came from workers %v, want both of the 2 workers", pids)
		}
		if n := l.prov.jwksCalls.Load(); n != 1 {
			t.Fatalf("%d JWKS fetches across both workers, want 1 (one process-wide key set)", n)
		}
	})

	t.Run("POST /config under load", func(t *testing.T) {
		pid := g.PluginPID("authkit-oauth")
		jwks, disc := l.prov.jwksCalls.Load(), l.prov.discoveryCalls.Load()
		ctx, cancel := context.WithCancel(context.Background())
		var samples []sample
		done := make(chan struct{})
		go func() { samples = load(ctx, t, g, 4, l.token); close(done) }()
		time.Sleep(500 * time.Millisecond)
		status, body := g.PostConfig(t, lifecycleConfig(t, up, l.prov, "v2"))
		if status != http.StatusCreated {
			cancel()
			<-done
			t.Fatalf("POST /config: %d %s", status, body)
		}
		time.Sleep(1500 * time.Millisecond)
		cancel()
		<-done
		t.Logf("POST /config: %s", summary(samples))
		if bad := judge(t, samples); len(bad) > 0 {
			t.Errorf("%d requests failed with 5xx or a transport error, first %+v", len(bad), bad[0])
		}
		if got := l.realm(t); got != `Key realm="v2"` {
			t.Errorf("after POST /config the key route answers %q, want the new realm v2", got)
		}
		// The plugin processes kept running: their process-wide caches
		// (key set, discovery) served the new instances without a fetch.
		if p := g.PluginPID("authkit-oauth"); p != pid {
			t.Errorf("authkit-oauth pid %d -> %d: POST /config must not restart the plugin server", pid, p)
		}
		if dj, dd := l.prov.jwksCalls.Load()-jwks, l.prov.discoveryCalls.Load()-disc; dj != 0 || dd != 0 {
			t.Errorf("%d JWKS and %d discovery fetches after POST /config, want 0: process-wide caches must survive a config change", dj, dd)
		}
	})

	t.Run("kong reload under load", func(t *testing.T) {
		get(t, g, "/lc/jwt", "Authorization", bearer(l.token)).echo(t) // warm
		pid := g.PluginPID("authkit-oauth")
		jwks := l.prov.jwksCalls.Load()
		g.WriteConfig(t, lifecycleConfig(t, up, l.prov, "v3"))
		ctx, cancel := context.WithCancel(context.Background())
		var samples []sample
		done := make(chan struct{})
		go func() { samples = load(ctx, t, g, 4, l.token); close(done) }()
		time.Sleep(500 * time.Millisecond)
		reloadAt := time.Now()
		g.Reload(t)
		// Until the new workers answer with the new config (up to 17 s on
		// the loaded 2-core CI machine).
		deadline := time.Now().Add(60 * time.Second)
		for l.realm(t) != `Key realm="v3"` && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("new config in force %v after kong reload started", time.Since(reloadAt).Round(time.Millisecond))
		time.Sleep(1500 * time.Millisecond)
		cancel()
		<-done
		t.Logf("kong reload: %s", summary(samples))
		if got := l.realm(t); got != `Key realm="v3"` {
			t.Fatalf("after kong reload the key route answers %q, want v3", got)
		}
		if bad := judge(t, samples); len(bad) > 0 {
			kongBug, other := reloadFailures(g, bad)
			if len(other) > 0 {
				t.Errorf("%d requests failed with 5xx or a transport error during kong reload, first %+v (docs/kong-behaviour.md)\n%s", len(other), other[0], logFor(g, other))
			}
			// A plugin server killed in the middle of a call can still cost
			// a few requests, through Kong's own error handling (see
			// reloadFailures); they are logged, and bounded.
			t.Logf("kong reload: %d requests failed through Kong 3.9.3's broken-pipe assert or the instance claim it leaves behind:\n%s", len(kongBug), logFor(g, kongBug))
			if len(kongBug)*100 > len(samples) {
				t.Errorf("%d of %d requests failed during kong reload, more than 1%%", len(kongBug), len(samples))
			}
		}
		// kong reload restarts the plugin servers: a new process with cold
		// caches, which fetches the key set once, not once per request (and
		// once more if an heir bridged the gap: pkg/pluginserver/handover.go).
		newPID := g.PluginPID("authkit-oauth")
		if newPID == 0 || newPID == pid {
			t.Errorf("authkit-oauth pid %d -> %d: kong reload was expected to restart the plugin server", pid, newPID)
		}
		t.Logf("key set and discovery fetches: %v", l.prov.fetches())
		if dj := l.prov.jwksCalls.Load() - jwks; dj < 1 || dj > 2 {
			t.Errorf("%d JWKS fetches after kong reload for %d requests, want 1 (the new process's cold cache), or 2 with an heir", dj, len(samples))
		}
	})

	t.Run("SIGKILL the plugin process", func(t *testing.T) {
		pid := g.PluginPID("authkit-key")
		if pid == 0 {
			t.Fatal("no authkit-key process")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var samples []sample
		done := make(chan struct{})
		start := time.Now()
		go func() { samples = load(ctx, t, g, 4, l.token); close(done) }()
		time.Sleep(500 * time.Millisecond)
		killedAt := time.Since(start)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			cancel()
			t.Fatal(err)
		}
		killed := time.Now()
		// The socket accepts again once Kong has respawned the process
		// (at most once per second) and go-pdk listens.
		var down time.Duration
		for syscall.Kill(pid, 0) == nil && time.Since(killed) < 5*time.Second {
			time.Sleep(time.Millisecond) // until Kong has reaped it
		}
		for {
			if c, err := net.Dial("unix", g.SocketPath("authkit-key")); err == nil {
				c.Close()
				down = time.Since(killed)
				break
			}
			if time.Since(killed) > 15*time.Second {
				cancel()
				<-done
				t.Fatalf("authkit-key's socket did not accept within 15s\n%s", g.ErrorLogTail(30))
			}
			time.Sleep(time.Millisecond)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			if p := g.PluginPID("authkit-key"); p != 0 && p != pid {
				break
			}
			if time.Now().After(deadline) {
				cancel()
				<-done
				t.Fatalf("authkit-key was not respawned within 15s\n%s", g.ErrorLogTail(30))
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond)
		cancel()
		<-done
		t.Logf("SIGKILL: %s", summary(samples))
		bad := judge(t, samples) // never a 2xx without credentials
		// The gap: the requests that failed after the kill, all on the
		// killed plugin's route, all answered 500 by Kong.
		var first, last time.Duration
		for i, s := range bad {
			if s.path != "/lc/key" {
				t.Errorf("a request to a route of another plugin failed: %+v", s)
			}
			if s.status != 500 {
				t.Errorf("a request in the gap got %d, want Kong's 500: %s", s.status, s.body)
			}
			if i == 0 {
				first = s.at
			}
			last = s.at
		}
		t.Logf("SIGKILL gap: the plugin socket refused connections for %v; %d requests failed closed with 500 (first %v, last %v after the kill)",
			down.Round(time.Millisecond), len(bad), (first - killedAt).Round(time.Millisecond), (last - killedAt).Round(time.Millisecond))
		if down > 5*time.Second {
			t.Errorf("the plugin was down %v; Kong respawns a dead plugin server within a second", down)
		}
		// Recovered: the new process serves both outcomes.
		if r := get(t, g, "/lc/key", "apikey", aliceKey); r.Status != 200 {
			t.Fatalf("after the respawn: %d %s", r.Status, r.Body)
		}
		if r := get(t, g, "/lc/key"); r.Status != 401 {
			t.Fatalf("after the respawn: %d %s", r.Status, r.Body)
		}
		if !strings.Contains(g.ErrorLog(), "external pluginserver 'authkit-key' terminated: signal 9") {
			t.Logf("note: Kong's termination line for authkit-key not found")
		}
	})
}
