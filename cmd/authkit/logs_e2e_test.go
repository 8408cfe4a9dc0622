package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/apikey"
	"github.com/kong-authkit/kong-authkit/pkg/authlog"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

// e2eLog collects what the real plugins produced, rendered as Kong writes
// it: error.log lines in one file, file-log JSON lines in the other.
type e2eLog struct {
	t                 *testing.T
	when              time.Time
	errorLog, fileLog []string
	perCode           map[string]int64
	routes            map[string]map[string]int64 // code → route id → count
	clients           map[string]map[string]int64 // code → client → count
	// lines without a record, per file
	errOther, fileOther int64
}

// drive sends req through inst's access phase n times and records the
// lines. A refusal must log exactly one authkit line with code; a success
// (code "") none.
func (l *e2eLog) drive(inst *kongwire.Instance, n int, code string, mk func(i int) *kongwire.Request) {
	t := l.t
	t.Helper()
	for i := range n {
		req := mk(i)
		res := inst.Access(t, req)
		l.when = l.when.Add(time.Second)
		errLines := res.ErrorLogLines(req, l.when)
		fileLine := res.FileLogLine(req, l.when)
		records := 0
		for _, line := range errLines {
			if strings.Contains(line, " authkit {") {
				records++
			} else {
				l.errOther++
			}
		}
		switch {
		case code == "" && (res.Exited || records != 0 || strings.Contains(fileLine, `"authkit":`)):
			t.Fatalf("request %d: want a success without an authkit record; status %d, lines %q", i, res.Status, errLines)
		case code != "" && (!res.Exited || records != 1 || !strings.Contains(errLines[0], `"code":"`+code+`"`)):
			t.Fatalf("request %d: want one %s record; status %d, lines %q", i, code, res.Status, errLines)
		}
		l.errorLog = append(l.errorLog, errLines...)
		l.fileLog = append(l.fileLog, fileLine)
		if code == "" {
			l.fileOther++
			continue
		}
		l.perCode[code]++
		if l.routes[code] == nil {
			l.routes[code], l.clients[code] = map[string]int64{}, map[string]int64{}
		}
		l.routes[code][inst.RouteID]++
		l.clients[code][req.ClientIP]++
	}
}

func basicHeader(user, pass string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
}

// TestLogsOnRealPluginLines drives the real authkit-basic and authkit-key
// binaries through the wire-level harness with a known mix of requests and
// checks that `authkit logs` counts exactly what was driven, in both of
// Kong's log shapes.
func TestLogsOnRealPluginLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the plugin binaries")
	}
	l := &e2eLog{t: t, when: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		perCode: map[string]int64{}, routes: map[string]map[string]int64{}, clients: map[string]map[string]int64{}}

	// authkit-basic
	basic := kongwire.Start(t, kongwire.Build(t, "authkit-basic"))
	basic.SetConsumers(kongwire.Consumer{ID: "5f8a6e3c-0d6b-4c3e-8f5e-3b1f2a9c7d10", Username: "alice"})
	hash, err := passwd.HashBcrypt([]byte("alice-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	binst := basic.StartInstance(t, map[string]any{"credentials": []any{
		map[string]any{"username": "alice", "password_hash": hash, "consumer": "alice"},
	}})
	breq := func(ip string, h http.Header) func(int) *kongwire.Request {
		return func(int) *kongwire.Request {
			return &kongwire.Request{Method: "GET", Path: "/basic/orders", RawQuery: "page=2", ClientIP: ip, Headers: h.Clone()}
		}
	}
	l.drive(binst, 5, "BASIC_INVALID_CREDENTIALS", breq("198.51.100.7", basicHeader("alice", "wrong")))
	l.drive(binst, 3, "BASIC_MISSING", breq("198.51.100.8", http.Header{}))
	l.drive(binst, 2, "BASIC_MALFORMED", breq("198.51.100.9", http.Header{"Authorization": {"Basic !!!"}}))
	l.drive(binst, 4, "", breq("198.51.100.10", basicHeader("alice", "alice-pw")))

	// authkit-key
	key := kongwire.Start(t, kongwire.Build(t, "authkit-key"))
	key.SetConsumers(kongwire.Consumer{ID: "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", Username: "bob"})
	hashOf := func(k string) string { return apikey.FormatHash(apikey.HashKey(k)) }
	kinst := key.StartInstance(t, map[string]any{"credentials": []any{
		map[string]any{"id": "bob-live", "consumer": "bob", "key_hash": hashOf("bob-live-key")},
		map[string]any{"id": "bob-old", "consumer": "bob", "key_hash": hashOf("bob-old-key"),
			"expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
	}})
	kreq := func(ip string, h ...string) func(int) *kongwire.Request {
		return func(i int) *kongwire.Request {
			r := &kongwire.Request{Method: "POST", Path: "/key/items", ClientIP: ip, Headers: http.Header{}}
			for j := 0; j+1 < len(h); j += 2 {
				r.Headers.Add(h[j], strings.ReplaceAll(h[j+1], "#", fmt.Sprint(i)))
			}
			return r
		}
	}
	l.drive(kinst, 3, "APIKEY_INVALID", kreq("203.0.113.1", "apikey", "unknown-key-#"))
	l.drive(kinst, 2, "APIKEY_EXPIRED", kreq("203.0.113.2", "apikey", "bob-old-key"))
	l.drive(kinst, 1, "APIKEY_DUPLICATE", kreq("203.0.113.3", "apikey", "bob-live-key", "apikey", "other"))
	l.drive(kinst, 2, "", kreq("203.0.113.4", "apikey", "bob-live-key"))

	// Normal traffic and Kong's own lines, then damage: a real line cut
	// inside its record (a crash mid-write) in each shape.
	ts := l.when.Format("2006/01/02 15:04:05")
	l.errorLog = append(l.errorLog,
		ts+" [notice] 1#0: [kong] process.lua:152 [pluginserver] starting pluginserver process for authkit-basic",
		ts+` [error] 1#0: *9 upstream timed out, client: 1.2.3.4, server: kong, request: "GET /x HTTP/1.1"`,
		"")
	l.errOther += 3
	cutErr := l.errorLog[0][:strings.Index(l.errorLog[0], `"code"`)+10]
	l.errorLog = append(l.errorLog, cutErr, ts+" [notice] 1#0: *5 [kong] pb_rpc.lua:233 authkit {}, client: 1.1.1.1")
	firstRefusal := ""
	for _, fl := range l.fileLog {
		if strings.Contains(fl, `"authkit":`) {
			firstRefusal = fl
			break
		}
	}
	l.fileLog = append(l.fileLog, `{"client_ip":"10.0.0.1","response":{"status":200},"request":{"method":"GET","uri":"/"}}`)
	l.fileOther++
	l.fileLog = append(l.fileLog, firstRefusal[:len(firstRefusal)/2], `{"authkit":"BASIC_MISSING"}`)
	const unparseablePerFile = 2

	dir := t.TempDir()
	errPath, filePath := filepath.Join(dir, "error.log"), filepath.Join(dir, "file-log.json")
	for path, lines := range map[string][]string{errPath: l.errorLog, filePath: l.fileLog} {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	var events int64
	for _, n := range l.perCode {
		events += n
	}
	if events != 5+3+2+3+2+1 || len(l.perCode) != 6 {
		t.Fatalf("driven: %v", l.perCode)
	}
	for _, tc := range []struct {
		name   string
		files  []string
		lines  int
		times  int64 // each refusal appears once per file read
		others int64
	}{
		{"error.log", []string{errPath}, len(l.errorLog), 1, l.errOther},
		{"file-log", []string{filePath}, len(l.fileLog), 1, l.fileOther},
		{"both", []string{errPath, filePath}, len(l.errorLog) + len(l.fileLog), 2, l.errOther + l.fileOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := int64(len(tc.files))
			doc := logsJSONOf(t, "", tc.files...)
			want := authlog.Totals{Lines: int64(tc.lines), Events: tc.times * events, Matched: tc.times * events,
				NotAuthkit: tc.others, Unparseable: files * unparseablePerFile}
			if doc.Totals != want {
				t.Errorf("totals %+v, want %+v", doc.Totals, want)
			}
			if len(doc.Codes) != len(l.perCode) {
				t.Errorf("%d codes, want %d: %+v", len(doc.Codes), len(l.perCode), doc.Codes)
			}
			for code, n := range l.perCode {
				c := codeOf(doc, code)
				if c == nil || c.Count != tc.times*n || !c.InCatalog {
					t.Errorf("%s: %+v, want count %d", code, c, tc.times*n)
					continue
				}
				for _, top := range c.Routes.Top {
					if top.Count != tc.times*l.routes[code][top.Key] {
						t.Errorf("%s route %s: %d, want %d", code, top.Key, top.Count, tc.times*l.routes[code][top.Key])
					}
				}
				for _, top := range c.Clients.Top {
					if top.Count != tc.times*l.clients[code][top.Key] {
						t.Errorf("%s client %s: %d, want %d", code, top.Key, top.Count, tc.times*l.clients[code][top.Key])
					}
				}
				if len(c.Routes.Top) != 1 || len(c.Clients.Top) != 1 {
					t.Errorf("%s: routes %+v clients %+v", code, c.Routes, c.Clients)
				}
			}

			// The human report says the same.
			out, errOut, code := cli(t, "", append([]string{"logs", "--tz", "UTC"}, tc.files...)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			head := fmt.Sprintf("%d lines: %d authkit events, %d not authkit, %d unparseable\n",
				want.Lines, want.Events, want.NotAuthkit, want.Unparseable)
			if !strings.HasPrefix(out, head) {
				t.Errorf("want %q first in\n%s", head, out)
			}
			for c, n := range l.perCode {
				re := regexp.MustCompile(`(?m)^` + c + `\s+\d{3}\s+` + fmt.Sprint(tc.times*n) + `\s`)
				if !re.MatchString(out) {
					t.Errorf("no table row %s × %d in\n%s", c, tc.times*n, out)
				}
			}
			if testing.Verbose() && tc.name == "both" {
				t.Logf("\n%s", out)
			}
		})
	}
	if testing.Verbose() {
		t.Logf("sample lines:\n%s\n%s", l.errorLog[0], firstRefusal)
	}
}
