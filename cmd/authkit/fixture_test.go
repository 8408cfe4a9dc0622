package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// cli runs the CLI in-process.
func cli(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

// errLine is a Kong 3.9 error.log line for rec, exactly as kong.log.<level>
// from a Go plugin writes it during a request (kong-go-plugins.md §4.2).
func errLine(ts time.Time, level string, rec *authlog.Record, client, request string) string {
	return fmt.Sprintf(`%s [%s] 1234#0: *55 [kong] pb_rpc.lua:233 %s, client: %s, server: kong, request: "%s", host: "localhost:8000", request_id: "%x"`,
		ts.UTC().Format("2006/01/02 15:04:05"), level, rec.Line(), client, request, ts.UnixNano())
}

// timerLine is a log-phase line: the request context is replaced by the timer's.
func timerLine(ts time.Time, level string, rec *authlog.Record) string {
	return fmt.Sprintf(`%s [%s] 1234#0: *7 [kong] pb_rpc.lua:251 %s, context: ngx.timer`, ts.UTC().Format("2006/01/02 15:04:05"), level, rec.Line())
}

// fileLine is a file-log/http-log entry of Kong's serializer with the record
// under the `authkit` serialize key (nil rec: ordinary traffic).
func fileLine(ts time.Time, rec *authlog.Record, client, routeID, routeName, consumer string, status int) string {
	m := map[string]any{
		"started_at": ts.UnixMilli(), "client_ip": client,
		"route":     map[string]any{"id": routeID, "name": routeName, "paths": []string{"/" + routeName}, "protocols": []string{"http"}},
		"service":   map[string]any{"id": "svc-1", "name": "upstream", "host": "httpbin", "port": 80},
		"request":   map[string]any{"method": "GET", "uri": "/" + routeName + "/x?apikey=SECRET", "url": "http://localhost:8000/" + routeName + "/x?apikey=SECRET", "size": 91, "headers": map[string]any{"host": "localhost:8000", "user-agent": "curl/8.5.0", "apikey": "REDACTED"}},
		"response":  map[string]any{"status": status, "size": 120, "headers": map[string]any{"content-type": "application/json"}},
		"latencies": map[string]any{"kong": 1, "proxy": 0, "request": 1}, "upstream_uri": "/x", "tries": []any{},
	}
	if consumer != "" {
		m["consumer"] = map[string]any{"id": "c-" + consumer, "username": consumer}
	}
	if rec != nil {
		m[authlog.SerializeKey] = rec.Serialized()
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// fixture is a log mixing both shapes, normal traffic and damage, with the
// counts the report must show.
type fixture struct {
	lines                           []string
	events, notAuthkit, unparseable int
	foreign                         int // lines quoting `authkit {` that the plugins did not write
	perCode                         map[string]int
	basicRoutes                     map[string]int
	base                            time.Time
}

func rec(plugin, code string, status int, route string) *authlog.Record {
	return &authlog.Record{Plugin: plugin, Code: code, Status: status, Detail: "detail for " + code, Fingerprint: "1a2b3c4d", RouteID: route}
}

func newFixture() *fixture {
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	f := &fixture{base: base, perCode: map[string]int{}}
	ev := func(code, line string) {
		f.lines = append(f.lines, line)
		f.events++
		f.perCode[code]++
	}
	const basic, bic = "authkit-basic", "BASIC_INVALID_CREDENTIALS"
	// error.log, several codes, levels and routes
	ev(bic, errLine(at(0), "notice", rec(basic, bic, 401, "r-basic"), "172.18.0.1", "GET /basic/x HTTP/1.1"))
	ev(bic, errLine(at(1), "notice", rec(basic, bic, 401, "r-basic"), "172.18.0.1", "GET /basic/y?password=SECRET HTTP/1.1"))
	tricky := rec(basic, bic, 401, "r-basic")
	tricky.Detail = `user "x", client: 6.6.6.6, server: evil`
	ev(bic, errLine(at(2), "info", tricky, "172.18.0.1", "GET /basic/x HTTP/1.1"))
	ev(bic, errLine(at(40), "warn", rec(basic, bic, 401, "r-other"), "172.18.0.2", "POST /other HTTP/1.1"))
	f.basicRoutes = map[string]int{"r-basic": 3, "r-other": 1}
	const oauth = "authkit-oauth"
	ev("OAUTH_TOKEN_EXPIRED", errLine(at(5), "notice", rec(oauth, "OAUTH_TOKEN_EXPIRED", 401, "r-api"), "10.1.0.1", "GET /api HTTP/1.1"))
	ev("OAUTH_TOKEN_EXPIRED", errLine(at(50), "notice", rec(oauth, "OAUTH_TOKEN_EXPIRED", 401, "r-api"), "10.1.0.2", "GET /api HTTP/2.0"))
	ev("OAUTH_PROVIDER_UNREACHABLE", errLine(at(6), "error", rec(oauth, "OAUTH_PROVIDER_UNREACHABLE", 503, "r-api"), "10.1.0.1", "GET /api HTTP/1.1"))
	ev("OAUTH_PROVIDER_UNREACHABLE", timerLine(at(55), "error", rec(oauth, "OAUTH_PROVIDER_UNREACHABLE", 503, "r-api")))
	// file-log
	ev("APIKEY_INVALID", fileLine(at(8), rec("authkit-key", "APIKEY_INVALID", 401, ""), "10.2.0.1", "r-orders", "orders", "", 401))
	anon := rec("authkit-key", "APIKEY_INVALID", 401, "")
	anon.Anonymous = "true"
	ev("APIKEY_INVALID", fileLine(at(45), anon, "10.2.0.1", "r-orders", "orders", "anonymous", 200))
	ev("BASIC_MISSING", fileLine(at(9), rec(basic, "BASIC_MISSING", 401, ""), "10.2.0.3", "r-basic", "basic", "", 401))
	// normal traffic and Kong's own lines
	other := func(line string) { f.lines = append(f.lines, line); f.notAuthkit++ }
	other(fileLine(at(3), nil, "10.2.0.9", "r-orders", "orders", "alice", 200))
	other(fileLine(at(4), nil, "10.2.0.9", "r-orders", "orders", "alice", 200))
	other(fileLine(at(5), nil, "10.2.0.9", "r-authkit", "authkit", "bob", 204)) // "authkit" as a value only
	other(at(0).Format("2006/01/02 15:04:05") + " [notice] 1#0: [kong] process.lua:152 [pluginserver] starting pluginserver process for authkit-basic")
	other(at(0).Format("2006/01/02 15:04:05") + " [warn] 1#0: *5 [kong] pb_rpc.lua:378 [authkit-basic] closed")
	// not written by the plugins, though they quote a record (issue 24)
	foreign := func(line string) { f.lines = append(f.lines, line); f.foreign++ }
	foreign(at(0).Format("2006/01/02 15:04:05") + ` [error] 1#0: *9 upstream timed out, client: 1.2.3.4, server: kong, request: "GET /authkit {x} HTTP/1.1"`)
	foreign(fmt.Sprintf("%s [info] 275#0: *2575 [authkit-key:278] %s %s, context: ngx.timer", // a plugin process's stdout
		at(7).Format("2006/01/02 15:04:05"), at(7).Format("2006/01/02 15:04:05"), rec("authkit-key", "APIKEY_INVALID", 401, "r-key").Line()))
	other("")
	// damage
	bad := func(line string) { f.lines = append(f.lines, line); f.unparseable++ }
	full := errLine(at(10), "notice", rec(basic, bic, 401, "r-basic"), "1.1.1.1", "GET / HTTP/1.1")
	bad(full[:strings.Index(full, `"detail"`)+12]) // cut inside the JSON
	bad(at(11).Format("2006/01/02 15:04:05") + ` [notice] 1#0: *5 [kong] pb_rpc.lua:233 authkit {}, client: 1.1.1.1`)
	bad(`{"authkit":"BASIC_MISSING","client_ip":"1.1.1.1"}`)
	fl := fileLine(at(12), rec(basic, bic, 401, ""), "1.1.1.1", "r", "r", "", 401)
	bad(fl[:len(fl)/2])
	bad(errLine(at(13), "notice", &authlog.Record{Plugin: basic, Code: bic, Detail: strings.Repeat("x", 1<<20+10)}, "1.1.1.1", "GET / HTTP/1.1")) // > 1 MiB
	return f
}

func (f *fixture) write(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kong.log")
	if err := os.WriteFile(path, []byte(strings.Join(f.lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer is a bytes.Buffer safe for a follower goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
