package authlog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// kongLine wraps msg the way Kong 3.9 writes kong.log.<level>(msg) from a Go
// plugin during a request (kong-go-plugins.md §4.2).
func kongLine(ts, level, msg, trailer string) string {
	return ts + " [" + level + "] 1234#0: *55 [kong] pb_rpc.lua:233 " + msg + trailer
}

const reqTrailer = `, client: 172.18.0.1, server: kong, request: "GET /basic/x?apikey=SECRET HTTP/1.1", host: "localhost:8000", request_id: "abc123"`

func basicRecord() *Record {
	return &Record{
		Plugin: "authkit-basic", Code: "BASIC_INVALID_CREDENTIALS", Status: 401,
		Detail: "unknown user or wrong password", Fingerprint: "1a2b3c4d", RouteID: "r-1",
	}
}

func fileLogLine(t testing.TB, rec *Record, extra map[string]any) string {
	t.Helper()
	m := map[string]any{
		"started_at": 1795773600000, // 2026-11-27T10:00:00Z
		"client_ip":  "10.0.0.9",
		"route":      map[string]any{"id": "r-2", "name": "orders", "paths": []string{"/orders"}},
		"service":    map[string]any{"id": "s-1", "name": "upstream"},
		"consumer":   map[string]any{"id": "c-1", "username": "alice"},
		"request": map[string]any{"method": "POST", "uri": "/orders/1?token=SECRET", "url": "http://localhost:8000/orders/1?token=SECRET",
			"id": "req-9", "headers": map[string]any{"host": "localhost:8000", "authorization": "REDACTED"}},
		"response": map[string]any{"status": 401},
	}
	if rec != nil {
		m[SerializeKey] = rec.Serialized()
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseErrorLog(t *testing.T) {
	ts := "2026/11/27 10:00:00"
	want := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	rec := basicRecord()
	p := Parser{Location: time.UTC}

	ev, kind, err := p.Parse([]byte(kongLine(ts, "notice", rec.Line(), reqTrailer)))
	if err != nil || kind != ErrorLog {
		t.Fatalf("kind %v err %v", kind, err)
	}
	if !ev.Time.Equal(want) || ev.Level != "notice" {
		t.Errorf("time/level: %v %q", ev.Time, ev.Level)
	}
	if ev.Record.Code != rec.Code || ev.Record.Status != 401 || ev.Record.Fingerprint != "1a2b3c4d" || ev.Record.Plugin != "authkit-basic" {
		t.Errorf("record: %+v", ev.Record)
	}
	if ev.Client != "172.18.0.1" || ev.Method != "GET" || ev.Path != "/basic/x" || ev.Host != "localhost:8000" ||
		ev.RequestID != "abc123" || ev.Route != "r-1" {
		t.Errorf("context: %+v", ev)
	}
	if strings.Contains(ev.Path, "SECRET") {
		t.Error("the query string (which may hold a credential) must be dropped")
	}
}

// A record whose strings contain the trailer's own separators must still be
// read whole: the end of the JSON is found by decoding, not by splitting.
func TestParseErrorLogTrickyJSON(t *testing.T) {
	rec := basicRecord()
	rec.Detail = `bad header ", client: 6.6.6.6, request: "X", host: "evil"`
	rec.Fields = map[string]any{"note": "authkit {\"code\":\"FAKE\"}", "n": 3, "ok": false}
	line := kongLine("2026/11/27 10:00:00", "error", rec.Line(), reqTrailer)
	ev, kind, err := ParseLine([]byte(line))
	if err != nil || kind != ErrorLog {
		t.Fatalf("kind %v err %v", kind, err)
	}
	if ev.Record.Detail != rec.Detail || ev.Client != "172.18.0.1" || ev.Host != "localhost:8000" || ev.Level != "error" {
		t.Errorf("got %+v", ev)
	}
	if ev.Record.Fields["note"] != rec.Fields["note"] {
		t.Errorf("fields: %v", ev.Record.Fields)
	}
}

func TestParseErrorLogVariants(t *testing.T) {
	rec := basicRecord()
	for _, tc := range []struct {
		name, line string
		level      string
		client     string
		timed      bool
	}{
		{"kong 2.8 line number", "2026/11/27 10:00:00 [warn] 1#0: *5 [kong] pb_rpc.lua:252 " + rec.Line() + reqTrailer, "warn", "172.18.0.1", true},
		{"log phase timer", "2026/11/27 10:00:00 [info] 1#0: *5 [kong] pb_rpc.lua:233 " + rec.Line() + ", context: ngx.timer", "info", "", true},
		{"no connection", "2026/11/27 10:00:00 [notice] 1#0: [kong] pb_rpc.lua:233 " + rec.Line() + ", context: ngx.timer", "notice", "", true},
		{"while logging request", "2026/11/27 10:00:00 [crit] 1#0: *5 [kong] pb_rpc.lua:1 " + rec.Line() + " while logging request" + reqTrailer, "crit", "172.18.0.1", true},
		{"debug", kongLine("2026/11/27 10:00:00", "debug", rec.Line(), reqTrailer), "debug", "172.18.0.1", true},
		{"alert", kongLine("2026/11/27 10:00:00", "alert", rec.Line(), reqTrailer), "alert", "172.18.0.1", true},
		{"crlf", kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer) + "\r\n", "notice", "172.18.0.1", true},
		{"cut trailer", kongLine("2026/11/27 10:00:00", "notice", rec.Line(), `, client: 1.2.3.4, server: kong, request: "GET /x HT`), "notice", "1.2.3.4", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, kind, err := ParseLine([]byte(tc.line))
			if err != nil || kind != ErrorLog {
				t.Fatalf("kind %v err %v", kind, err)
			}
			if ev.Record.Code != rec.Code || ev.Level != tc.level || ev.Client != tc.client || ev.Time.IsZero() == tc.timed {
				t.Errorf("got %+v", ev)
			}
		})
	}
}

func TestParseSerialized(t *testing.T) {
	rec := basicRecord()
	rec.RouteID = ""
	rec.Anonymous = "true"
	rec.Fields = map[string]any{"locked": false}
	ev, kind, err := ParseLine([]byte(fileLogLine(t, rec, nil)))
	if err != nil || kind != SerializedLog {
		t.Fatalf("kind %v err %v", kind, err)
	}
	if !ev.Time.Equal(time.UnixMilli(1795773600000)) || ev.Level != "" {
		t.Errorf("time %v level %q", ev.Time, ev.Level)
	}
	if ev.Record.Code != rec.Code || ev.Record.Status != 401 || ev.Record.Anonymous != "true" || ev.Record.Fields["locked"] != "false" {
		t.Errorf("record %+v", ev.Record)
	}
	if ev.Client != "10.0.0.9" || ev.Route != "r-2" || ev.RouteName != "orders" || ev.Consumer != "alice" ||
		ev.Method != "POST" || ev.Path != "/orders/1" || ev.Host != "localhost:8000" || ev.RequestID != "req-9" {
		t.Errorf("context %+v", ev)
	}
}

func TestParseOther(t *testing.T) {
	for _, line := range []string{
		"",
		"   ",
		"2026/11/27 10:00:00 [notice] 1#0: [kong] process.lua:152 [pluginserver] starting pluginserver process for authkit-basic",
		"2026/11/27 10:00:00 [warn] 1#0: *5 [kong] pb_rpc.lua:378 [authkit-basic] closed",
		`{"started_at":1,"client_ip":"1.2.3.4","route":{"name":"authkit"},"response":{"status":200}}`, // "authkit" only as a value
		`{"authkit":null}`,
		`{"request":{"method":"GET"},"response":{"status":200}}`,
		`{not json at all`,
		"garbage \x00\xff\xfe",
	} {
		ev, kind, err := ParseLine([]byte(line))
		if err != nil || kind != Other || ev.Record.Code != "" {
			t.Errorf("%q: kind %v err %v", line, kind, err)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	full := basicRecord().Line()
	ok := fileLogLine(t, basicRecord(), nil)
	for _, tc := range []struct {
		name, line string
		kind       Kind
		want       error
	}{
		{"truncated json", kongLine("2026/11/27 10:00:00", "notice", full[:len(full)-20], ""), ErrorLog, ErrMalformed},
		{"truncated at 2k", kongLine("2026/11/27 10:00:00", "notice", "authkit {\"code\":\"X\",\"detail\":\""+strings.Repeat("a", 2048), ""), ErrorLog, ErrMalformed},
		{"bad json", kongLine("2026/11/27 10:00:00", "notice", "authkit {code: X}", ""), ErrorLog, ErrMalformed},
		{"empty object", kongLine("2026/11/27 10:00:00", "notice", "authkit {}", reqTrailer), ErrorLog, ErrMissingField},
		{"empty code", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":""}`, reqTrailer), ErrorLog, ErrMissingField},
		{"null code", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":null}`, reqTrailer), ErrorLog, ErrMissingField},
		{"code is number", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":401}`, reqTrailer), ErrorLog, ErrWrongType},
		{"status is bool", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":"X","status":true}`, reqTrailer), ErrorLog, ErrWrongType},
		{"status not numeric", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":"X","status":"four"}`, reqTrailer), ErrorLog, ErrWrongType},
		{"status fractional", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":"X","status":401.5}`, reqTrailer), ErrorLog, ErrWrongType},
		{"plugin is object", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":"X","plugin":{}}`, reqTrailer), ErrorLog, ErrWrongType},
		{"fields is list", kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":"X","fields":[1]}`, reqTrailer), ErrorLog, ErrWrongType},
		{"file-log truncated", ok[:len(ok)/2], SerializedLog, ErrMalformed},
		{"file-log authkit string", `{"authkit":"BASIC_MISSING"}`, SerializedLog, ErrWrongType},
		{"file-log authkit list", `{"authkit":[{"code":"X"}]}`, SerializedLog, ErrWrongType},
		{"file-log no code", `{"authkit":{"plugin":"authkit-basic","status":401}}`, SerializedLog, ErrMissingField},
		{"file-log broken with key", `{"authkit":{"code":"X"},`, SerializedLog, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, kind, err := ParseLine([]byte(tc.line))
			if kind != tc.kind || !errors.Is(err, tc.want) {
				t.Fatalf("kind %v err %v, want %v %v", kind, err, tc.kind, tc.want)
			}
		})
	}
}

// Lenient where Kong may legitimately differ: numeric strings, numbers for
// strings, Kong fields of unexpected types.
func TestParseLenient(t *testing.T) {
	ev, kind, err := ParseLine([]byte(`{"authkit":{"code":"APIKEY_INVALID","status":"401","credential":1234,"anonymous":true},` +
		`"started_at":"x","client_ip":7,"route":"weird","consumer":[],"request":{"uri":5,"headers":"h"}}`))
	if err != nil || kind != SerializedLog {
		t.Fatalf("kind %v err %v", kind, err)
	}
	if ev.Record.Status != 401 || ev.Record.Fingerprint != "1234" || ev.Record.Anonymous != "true" || ev.Client != "7" || !ev.Time.IsZero() {
		t.Errorf("got %+v", ev)
	}
}

func TestParseVeryLongLine(t *testing.T) {
	rec := basicRecord()
	rec.Detail = strings.Repeat("x", 2<<20)
	ev, kind, err := ParseLine([]byte(kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer)))
	if err != nil || kind != ErrorLog || len(ev.Record.Detail) != 2<<20 {
		t.Fatalf("kind %v err %v", kind, err)
	}
	_, kind, _ = ParseLine([]byte(strings.Repeat("garbage ", 1<<18)))
	if kind != Other {
		t.Fatalf("long garbage: %v", kind)
	}
}

func TestRoundTripRecord(t *testing.T) {
	rec := basicRecord()
	rec.Consumer, rec.PluginID, rec.Instance, rec.Anonymous = "bob", "p-1", "inst", "true"
	rec.Fields = map[string]any{"expected": "a", "n": json.Number("2")}
	for _, line := range []string{kongLine("2026/11/27 10:00:00", "notice", rec.Line(), ""), fileLogLine(t, rec, nil)} {
		ev, _, err := ParseLine([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		got, want := ev.Record.Line(), rec.Line()
		if got != want {
			t.Errorf("round trip:\n got %s\nwant %s", got, want)
		}
	}
}
