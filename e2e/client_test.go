package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// response is Kong's answer to one proxied request.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	// ReqID is X-Kong-Request-Id: Kong writes it as request_id into
	// error.log lines and as request.id into file-log entries.
	ReqID string
}

// echo returns what the echo upstream saw, failing the test if the request
// did not reach it.
func (r *response) echo(t testing.TB) *echoed {
	t.Helper()
	if r.Header.Get("X-Echo") != "1" {
		t.Fatalf("the request did not reach the upstream: %d %s", r.Status, r.Body)
	}
	var e echoed
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("echo: %v: %s", err, r.Body)
	}
	return &e
}

// bodyCode is the "code" of a JSON refusal body ("" if none).
func (r *response) bodyCode() string {
	var b struct{ Code string }
	_ = json.Unmarshal(r.Body, &b)
	return b.Code
}

var client = &http.Client{Timeout: 20 * time.Second}

// hdr builds headers from name, value pairs (a name may repeat).
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func send(t testing.TB, g *realkong.Gateway, method, path string, h http.Header, body string) *response {
	t.Helper()
	req, err := http.NewRequest(method, g.ProxyURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if host := h.Get("Host"); host != "" {
		req.Host = host
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b, ReqID: resp.Header.Get("X-Kong-Request-Id")}
}

func get(t testing.TB, g *realkong.Gateway, path string, kv ...string) *response {
	t.Helper()
	return send(t, g, http.MethodGet, path, hdr(kv...), "")
}

// logEvent is one authkit record found in a log, with its raw line.
type logEvent struct {
	authlog.Event
	Raw string
}

// logWait bounds the wait for a log line or entry (generous: CI machines
// are shared).
const logWait = 10 * time.Second

// errorLogRecord waits (up to logWait) for the `authkit {…}` line Kong wrote
// into error.log for request id and returns it.
func errorLogRecord(t testing.TB, g *realkong.Gateway, reqID string) logEvent {
	t.Helper()
	var found []logEvent
	deadline := time.Now().Add(logWait)
	for {
		found = found[:0]
		sc := bufio.NewScanner(strings.NewReader(g.ErrorLog()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, reqID) {
				continue
			}
			ev, kind, err := authlog.ParseLine([]byte(line))
			if kind == authlog.ErrorLog && err == nil && ev.RequestID == reqID {
				found = append(found, logEvent{ev, line})
			}
		}
		if len(found) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one authkit line with request_id %s in error.log, got %d: %v", reqID, len(found), found)
	}
	return found[0]
}

// fileLogEntry waits (up to logWait) for the file-log entry of request id: the
// bundled file-log plugin writes it in the log phase, after the response.
func fileLogEntry(t testing.TB, path, reqID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(logWait)
	for {
		b, _ := os.ReadFile(path)
		for _, line := range bytes.Split(b, []byte("\n")) {
			if !bytes.Contains(line, []byte(reqID)) {
				continue
			}
			var m map[string]any
			if json.Unmarshal(line, &m) != nil {
				continue
			}
			if req, _ := m["request"].(map[string]any); req["id"] == reqID {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no file-log entry for request %s in %s", reqID, path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileLogRecord is the authkit object of the file-log entry, parsed the
// way `authkit logs` parses it.
func fileLogRecord(t testing.TB, path, reqID string) (logEvent, map[string]any) {
	t.Helper()
	entry := fileLogEntry(t, path, reqID)
	line, _ := json.Marshal(entry)
	ev, kind, err := authlog.ParseLine(line)
	if kind != authlog.SerializedLog || err != nil {
		t.Fatalf("file-log entry of %s has no readable authkit object (%v, %v): %s", reqID, kind, err, line)
	}
	return logEvent{ev, string(line)}, entry
}

// noRecord asserts that request id left no authkit record in either log
// (an accepted request). The file-log entry must exist (it is written for
// every request) and carry no authkit object.
func noRecord(t testing.TB, g *realkong.Gateway, fileLog, reqID string) {
	t.Helper()
	entry := fileLogEntry(t, fileLog, reqID)
	if ak, ok := entry["authkit"]; ok {
		t.Fatalf("accepted request %s has an authkit object in file-log: %v", reqID, ak)
	}
	for _, line := range strings.Split(g.ErrorLog(), "\n") {
		if strings.Contains(line, reqID) && strings.Contains(line, "authkit {") {
			t.Fatalf("accepted request %s has an authkit line in error.log: %s", reqID, line)
		}
	}
}
