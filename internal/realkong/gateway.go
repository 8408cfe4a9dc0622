package realkong

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// Options configure one Kong.
type Options struct {
	// BinDir holds the plugin binaries (BuildPlugins).
	BinDir string
	// Plugins are the plugin servers to load; nil loads every plugin
	// under plugins/.
	Plugins []string
	// Config is the declarative configuration (kong.yaml).
	Config []byte
	// Workers is nginx_worker_processes; 0 means 1.
	Workers int
	// LogLevel is Kong's log_level; "" means info, the level at which Kong
	// copies the plugin processes' own output into error.log.
	LogLevel string
	// Env adds or overrides KONG_* settings.
	Env map[string]string
	// TLS adds an HTTPS proxy listener (ProxyTLSURL) next to the plain one.
	// Kong serves its own self-signed certificate unless Env sets
	// KONG_SSL_CERT and KONG_SSL_CERT_KEY.
	TLS bool
	// PluginArgs are extra arguments on a plugin's START_CMD, after
	// PluginEnv's (e.g. "-metrics-listen", "127.0.0.1:9542").
	PluginArgs map[string][]string
}

// Gateway is one running Kong.
type Gateway struct {
	Exe    string
	Prefix string
	BinDir string
	// ProxyURL and AdminURL are http://127.0.0.1:<port>.
	ProxyURL, AdminURL string
	// ProxyTLSURL is https://127.0.0.1:<port> with Options.TLS, else "".
	ProxyTLSURL string
	Plugins     []string

	t       testing.TB
	env     []string
	mu      sync.Mutex
	stopped bool
}

var running struct {
	sync.Mutex
	gws map[*Gateway]bool
}

// startTimeout bounds `kong start`, `kong reload` and `kong stop`.
const startTimeout = 2 * time.Minute

// Start starts Kong DB-less with o.Config, or fails the test. The gateway
// is stopped in t.Cleanup; if the test failed, the end of error.log is
// logged and the prefix kept for inspection.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	g, err := TryStart(t, o)
	if err != nil {
		t.Fatalf("realkong: %v", err)
	}
	return g
}

// TryStart is Start that returns Kong's refusal to start (e.g. an invalid
// kong.yaml) as an error instead of failing the test.
func TryStart(t testing.TB, o Options) (*Gateway, error) {
	t.Helper()
	exe := Require(t)
	if o.BinDir == "" {
		t.Fatalf("realkong: Options.BinDir is empty (use BuildPlugins)")
	}
	if o.Plugins == nil {
		o.Plugins = Plugins(t)
	}
	// Not t.TempDir(): Unix socket paths are limited to about 108 bytes.
	prefix, err := os.MkdirTemp("", "ak-kong-")
	if err != nil {
		t.Fatalf("realkong: %v", err)
	}
	g := &Gateway{Exe: exe, Prefix: prefix, BinDir: o.BinDir, Plugins: o.Plugins, t: t}
	if err := os.WriteFile(g.ConfigPath(), o.Config, 0o644); err != nil {
		t.Fatalf("realkong: %v", err)
	}
	t.Cleanup(func() { g.cleanup() })

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		proxy, admin := freePort(t), freePort(t)
		g.ProxyURL = "http://127.0.0.1:" + strconv.Itoa(proxy)
		g.AdminURL = "http://127.0.0.1:" + strconv.Itoa(admin)
		oo := o
		if o.TLS {
			tlsPort := freePort(t)
			g.ProxyTLSURL = "https://127.0.0.1:" + strconv.Itoa(tlsPort)
			oo.Env = map[string]string{}
			for k, v := range o.Env {
				oo.Env[k] = v
			}
			oo.Env["KONG_PROXY_LISTEN"] = fmt.Sprintf("127.0.0.1:%d reuseport, 127.0.0.1:%d ssl reuseport", proxy, tlsPort)
		}
		g.env = kongEnv(g, oo, proxy, admin)
		out, err := g.kong("start")
		if err == nil {
			lastErr = nil
			break
		}
		lastErr = fmt.Errorf("kong start: %v\n%s", err, out)
		if !strings.Contains(out+g.ErrorLog(), "already in use") {
			break
		}
		_, _ = g.kong("stop", "-p", g.Prefix)
	}
	if lastErr != nil {
		_, _ = g.kong("stop", "-p", g.Prefix) // in case nginx got that far
		g.mu.Lock()
		g.stopped = true
		g.mu.Unlock()
		return nil, lastErr
	}
	running.Lock()
	if running.gws == nil {
		running.gws = map[*Gateway]bool{}
	}
	running.gws[g] = true
	running.Unlock()
	if err := g.WaitPlugins(30 * time.Second); err != nil {
		t.Fatalf("realkong: %v\n%s", err, g.ErrorLogTail(60))
	}
	return g, nil
}

// kongEnv is the environment of every kong command of g: the caller's,
// without any KONG_* setting of its own, plus DB-less settings, loopback
// listeners and PluginEnv.
func kongEnv(g *Gateway, o Options, proxy, admin int) []string {
	workers := o.Workers
	if workers == 0 {
		workers = 1
	}
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	set := map[string]string{
		"KONG_PREFIX":                 g.Prefix,
		"KONG_DATABASE":               "off",
		"KONG_DECLARATIVE_CONFIG":     g.ConfigPath(),
		"KONG_PROXY_LISTEN":           fmt.Sprintf("127.0.0.1:%d reuseport", proxy),
		"KONG_ADMIN_LISTEN":           fmt.Sprintf("127.0.0.1:%d", admin),
		"KONG_STATUS_LISTEN":          "off",
		"KONG_ADMIN_GUI_LISTEN":       "off",
		"KONG_NGINX_WORKER_PROCESSES": strconv.Itoa(workers),
		"KONG_LOG_LEVEL":              level,
		"KONG_ANONYMOUS_REPORTS":      "off",
	}
	if os.Geteuid() == 0 {
		// Kong refuses to run its workers as root without an explicit user.
		set["KONG_NGINX_USER"] = "root root"
	}
	for k, v := range PluginEnv(g.BinDir, g.Prefix, g.Plugins) {
		set[k] = v
	}
	for p, args := range o.PluginArgs {
		key := "KONG_PLUGINSERVER_" + strings.ToUpper(strings.ReplaceAll(p, "-", "_")) + "_START_CMD"
		set[key] += " " + strings.Join(args, " ")
	}
	for k, v := range o.Env {
		set[k] = v
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KONG_") {
			env = append(env, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+set[k])
	}
	return env
}

// kong runs `kong args...` with g's environment.
func (g *Gateway) kong(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.Exe, args...)
	cmd.Env = g.env
	cmd.Dir = g.Prefix
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Env returns g's KONG_* settings (for documentation and assertions).
func (g *Gateway) Env() map[string]string {
	out := map[string]string{}
	for _, kv := range g.env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "KONG_") {
			out[k] = v
		}
	}
	return out
}

// ConfigPath is the declarative config Kong reads at start and reload.
func (g *Gateway) ConfigPath() string { return filepath.Join(g.Prefix, "kong.yaml") }

// ErrorLogPath is Kong's error.log.
func (g *Gateway) ErrorLogPath() string { return filepath.Join(g.Prefix, "logs", "error.log") }

// ErrorLog returns the whole error.log ("" if there is none yet).
func (g *Gateway) ErrorLog() string {
	b, _ := os.ReadFile(g.ErrorLogPath())
	return string(b)
}

// ErrorLogTail returns the last n lines of error.log that are not debug.
func (g *Gateway) ErrorLogTail(n int) string {
	var keep []string
	for _, l := range strings.Split(g.ErrorLog(), "\n") {
		if l != "" && !strings.Contains(l, "[debug]") {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

// SocketPath is where Kong 3.9+ looks for plugin's socket.
func (g *Gateway) SocketPath(plugin string) string { return filepath.Join(g.Prefix, plugin+".socket") }

// WaitPlugins waits until every plugin server accepts connections on its
// socket: `kong start` returns before worker 0 has spawned them, and a
// request that comes earlier gets a 500.
func (g *Gateway) WaitPlugins(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, p := range g.Plugins {
		for {
			c, err := net.Dial("unix", g.SocketPath(p))
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("plugin server %s did not listen on %s within %v: %v", p, g.SocketPath(p), timeout, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// WaitStatus polls GET ProxyURL+path until it answers want (the route is
// configured and its plugins answer), or fails the test after timeout.
func (g *Gateway) WaitStatus(t testing.TB, path string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(g.ProxyURL + path)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("realkong: GET %s did not answer %d within %v (last: %s)\n%s", path, want, timeout, last, g.ErrorLogTail(40))
}

// WriteConfig replaces the declarative config file that Kong reads at the
// next start or reload.
func (g *Gateway) WriteConfig(t testing.TB, cfg []byte) {
	t.Helper()
	if err := os.WriteFile(g.ConfigPath(), cfg, 0o644); err != nil {
		t.Fatalf("realkong: %v", err)
	}
}

// Reload runs `kong reload -p <prefix>` with g's environment: nginx
// starts new workers with the config file, the old ones finish their
// requests.
func (g *Gateway) Reload(t testing.TB) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("realkong: kong reload took %v", time.Since(start).Round(time.Millisecond)) }()
	if out, err := g.kong("reload", "-p", g.Prefix); err != nil {
		t.Fatalf("realkong: kong reload: %v\n%s\n%s", err, out, g.ErrorLogTail(40))
	}
}

// PostConfig sends cfg (YAML or JSON) to the Admin API's POST /config
// (DB-less) and returns the status and body. Errors are flattened.
func (g *Gateway) PostConfig(t testing.TB, cfg []byte) (int, []byte) {
	t.Helper()
	// As JSON: the Admin API answers 415 to a YAML content type.
	js, err := yaml.YAMLToJSON(cfg)
	if err != nil {
		t.Fatalf("realkong: config is not YAML: %v", err)
	}
	resp, err := http.Post(g.AdminURL+"/config?flatten_errors=1", "application/json", bytes.NewReader(js))
	if err != nil {
		t.Fatalf("realkong: POST /config: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

var pluginOutputRE = regexp.MustCompile(`\[([a-z0-9-]+):(\d+)\] `)

// PluginPID returns the pid of plugin's current server process, from the
// latest "[<name>:<pid>]" line Kong copied from its output into error.log
// (info level), checked to be alive; 0 if there is none.
func (g *Gateway) PluginPID(plugin string) int {
	pid := 0
	for _, m := range pluginOutputRE.FindAllStringSubmatch(g.ErrorLog(), -1) {
		if m[1] == plugin {
			pid, _ = strconv.Atoi(m[2])
		}
	}
	if pid == 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

// Stop runs `kong stop -p <prefix>` once; later calls do nothing.
func (g *Gateway) Stop(t testing.TB) {
	t.Helper()
	if err := g.stop(); err != nil {
		t.Errorf("realkong: %v", err)
	}
}

func (g *Gateway) stop() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return nil
	}
	g.stopped = true
	running.Lock()
	delete(running.gws, g)
	running.Unlock()
	out, err := g.kong("stop", "-p", g.Prefix)
	if err != nil {
		return fmt.Errorf("kong stop -p %s: %v\n%s", g.Prefix, err, out)
	}
	return nil
}

func (g *Gateway) cleanup() {
	err := g.stop()
	if err != nil {
		g.t.Errorf("realkong: %v", err)
	}
	if g.t.Failed() {
		g.t.Logf("realkong: Kong prefix kept: %s; end of error.log:\n%s", g.Prefix, g.ErrorLogTail(80))
		return
	}
	os.RemoveAll(g.Prefix)
}

// stopLeftovers stops gateways a crashed test did not clean up.
func stopLeftovers() {
	running.Lock()
	var gws []*Gateway
	for g := range running.gws {
		gws = append(gws, g)
	}
	running.Unlock()
	for _, g := range gws {
		if err := g.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("realkong: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ParseConfig runs `kong config parse` on cfg with the plugin settings of
// PluginEnv (Kong runs each plugin's -dump to learn its schema): Kong's
// own validation of a declarative config, without starting a gateway. It
// returns Kong's output and whether Kong accepted the file.
func ParseConfig(t testing.TB, binDir string, plugins []string, cfg []byte) (string, bool) {
	t.Helper()
	exe := Require(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "kong.yaml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatalf("realkong: %v", err)
	}
	g := &Gateway{Exe: exe, Prefix: dir, BinDir: binDir, Plugins: plugins}
	g.env = kongEnv(g, Options{}, 0, 0)
	out, err := g.kong("config", "parse", path)
	return out, err == nil
}
