package kongwire

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

func TestErrorLogLines(t *testing.T) {
	when := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	rec := `authkit {"plugin":"authkit-basic","code":"BASIC_MISSING","status":401,"detail":"no credentials","route_id":"r-1"}`
	r := &Result{Logs: []LogLine{{Level: "notice", Message: rec}, {Level: "err", Message: "second"}}}
	req := &Request{Method: "POST", Path: "/basic/x", RawQuery: "a=1", ClientIP: "198.51.100.7"}
	lines := r.ErrorLogLines(req, when)
	re := regexp.MustCompile(`^2026/11/27 10:00:00 \[(notice|error)\] 1234#0: \*(\d+) \[kong\] pb_rpc\.lua:233 (.*), client: 198\.51\.100\.7, server: kong, request: "POST /basic/x\?a=1 HTTP/1\.1", host: "kong\.test:8000", request_id: "([0-9a-f]{32})"$`)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	m0, m1 := re.FindStringSubmatch(lines[0]), re.FindStringSubmatch(lines[1])
	if m0 == nil || m1 == nil || m0[1] != "notice" || m1[1] != "error" || m0[3] != rec || m1[3] != "second" {
		t.Fatalf("lines:\n%s\n%s", lines[0], lines[1])
	}
	if m0[2] != m1[2] || m0[4] != m1[4] {
		t.Error("lines of one request must share the connection and request_id")
	}
	p := authlog.Parser{Location: time.UTC}
	ev, kind, err := p.Parse([]byte(lines[0]))
	if err != nil || kind != authlog.ErrorLog || ev.Record.Code != "BASIC_MISSING" || ev.Client != "198.51.100.7" || !ev.Time.Equal(when) {
		t.Errorf("authlog reads %+v %v %v", ev, kind, err)
	}
	if again := r.ErrorLogLines(req, when); again[0] == lines[0] {
		t.Error("two requests got the same connection and request_id")
	}
	// nginx cuts at NGX_MAX_ERROR_STR, trailer included.
	long := (&Result{Logs: []LogLine{{Level: "info", Message: strings.Repeat("x", 3000)}}}).ErrorLogLines(req, when)
	if len(long[0]) != 2047 || strings.Contains(long[0], "client:") {
		t.Errorf("long line: %d bytes", len(long[0]))
	}
	if (&Result{}).ErrorLogLines(req, when) != nil {
		t.Error("no log calls, no lines")
	}
}

func TestFileLogLine(t *testing.T) {
	when := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	req := &Request{Path: "/key", RawQuery: "apikey=x", Headers: http.Header{"Authorization": {"Basic abc"}, "X-A": {"1", "2"}}}
	r := &Result{Status: 401, Serialize: map[string]any{"authkit": map[string]any{"code": "APIKEY_INVALID", "plugin": "authkit-key", "status": 401.0, "route_id": "r-9"}}}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.FileLogLine(req, when)), &m); err != nil {
		t.Fatal(err)
	}
	rq := m["request"].(map[string]any)
	h := rq["headers"].(map[string]any)
	if m["started_at"] != float64(when.UnixMilli()) || m["client_ip"] != "127.0.0.1" || rq["uri"] != "/key?apikey=x" ||
		rq["url"] != "http://kong.test:8000/key?apikey=x" || h["authorization"] != "REDACTED" || h["host"] != "kong.test:8000" ||
		m["response"].(map[string]any)["status"] != 401.0 || m["route"].(map[string]any)["id"] != "r-9" || m["consumer"] != nil {
		t.Errorf("line %v", m)
	}
	ok := &Result{Authenticated: true, AuthConsumer: &Consumer{ID: "c1", Username: "alice"}}
	m = nil
	if err := json.Unmarshal([]byte(ok.FileLogLine(&Request{}, when)), &m); err != nil {
		t.Fatal(err)
	}
	if c := m["consumer"].(map[string]any); c["username"] != "alice" || m["response"].(map[string]any)["status"] != 200.0 || m["authkit"] != nil {
		t.Errorf("authenticated line %v", m)
	}
}

// Response-phase lines carry nginx's "while sending to client" before the
// trailer (real Kong 3.9.3); log-phase lines only ", context: ngx.timer".
func TestErrorLogLinesPhaseContext(t *testing.T) {
	when := time.Date(2026, 11, 27, 10, 0, 0, 0, time.Local)
	r := &Result{Phase: "response", Logs: []LogLine{{Level: "notice", Message: "authkit {}"}}}
	line := r.ErrorLogLines(&Request{}, when)[0]
	if !strings.Contains(line, "authkit {} while sending to client, client: 127.0.0.1, server: kong") {
		t.Fatalf("response phase: %s", line)
	}
	r.Phase = "log"
	if line = r.ErrorLogLines(&Request{}, when)[0]; !strings.HasSuffix(line, "authkit {}, context: ngx.timer") {
		t.Fatalf("log phase: %s", line)
	}
}
