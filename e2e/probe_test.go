package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// The probe scenarios and what Kong 3.9.3 answered to them. The same
// expectations are checked under internal/kongwire (TestProbeKongwire,
// always) and in a real Kong (TestGateway/probe), so every difference
// between the model and Kong found so far stays pinned on both sides
// (docs/kong-behaviour.md).

// probeReadRequest: a multi-value header, an empty header and a query
// with a bare key and an escape.
var (
	probeReadHeaders = hdr("X-Probe", "read", "X-Multi", "a", "X-Multi", "b", "X-Empty-In", "")
	probeReadQuery   = "a=1&b&c=%20"
)

var probeReadWant = map[string]any{
	// kong.request.get_headers: lower-case names, every value of a
	// repeated header, an empty header kept.
	"get_headers":           map[string]any{"x-probe": []any{"read"}, "x-multi": []any{"a", "b"}, "x-empty-in": []any{""}},
	"get_header_multi":      "a",
	"get_header_underscore": "a",
	"get_header_missing":    "",
	"get_header_empty":      "",
	"raw_query":             probeReadQuery,
	"raw_body":              "",
	"raw_body_err":          "",
	"method":                "GET",
	// Nothing authenticated: empty entities, no error.
	"credential_id":  "",
	"credential_err": "",
	"consumer_id":    "",
	// load_consumer by username; a consumer without custom_id has "".
	"load_username":  "probe-user",
	"load_custom_id": "",
	"load_has_id":    true,
	"load_err":       "",
	// An unknown consumer is an empty entity, not an error.
	"load_missing_id":  "",
	"load_missing_err": "",
}

// probeSetHeaders are sent by the client; the probe then sets and removes
// upstream headers. Want: name -> values the upstream got (trimmed), nil
// for absent.
var (
	probeSetHeaders = hdr("X-Probe", "set", "X-Removed-List", "client", "X-Cleared", "client", "X-Empty-String", "client")
	probeSetWant    = map[string][]string{
		"X-Empty-String":  {""}, // "" does NOT remove: present and empty
		"X-Set-One-Empty": {""}, // set_header(name, "") likewise
		"X-Set":           {"v"},
		"X-List":          {"a", ""},
		"X-Removed-List":  nil, // an empty list removes
		"X-Absent-List":   nil,
		"X-Cleared":       nil, // clear_header removes
	}
)

// probeExitWant: kong.response.exit's headers, "" sent as present and empty.
var probeExitWant = map[string][]string{
	"Content-Type":     {"application/json; charset=utf-8"},
	"Www-Authenticate": {`Basic realm="probe"`},
	"X-Multi":          {"a", "b"},
	"X-Exit-Empty":     {""},
}

// set_serialize_value: false deletes the key (a Go false is Lua nil), true,
// numbers, "" and nested maps survive; a dotted key nests.
var (
	probeSerializeWant = map[string]any{"code": "PROBE", "yes": true, "n": float64(3), "s": "", "nested": map[string]any{"a": "b"}}
	probeDottedWant    = map[string]any{"dotted": "x"}
	// kong.log.notice args are concatenated with no separator, tostring()ed.
	probeLogWant = "authkit-probe 1 true 2.5"
)

// probeResponseWant: in the response phase (buffered proxying)
// kong.service.response.get_headers is EMPTY; get_header(name) works;
// kong.response.get_headers has the service's headers, lower-case keys.
func probeResponseWant(bodyLen int) map[string]any {
	return map[string]any{
		"status":                            float64(200),
		"service_get_headers_count":         float64(0),
		"service_get_headers_err":           "",
		"service_get_header_ct":             "application/json",
		"service_get_header_multi":          "m1",
		"response_get_headers_ct":           []any{"application/json"},
		"response_get_headers_multi":        []any{"m1", "m2"},
		"response_get_headers_canonical_ct": nil,
		"body_len":                          float64(bodyLen),
		"body_err":                          "",
	}
}

func jsonMap(t testing.TB, what string, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v: %s", what, err, b)
	}
	return m
}

func sameMap(t testing.TB, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %#v", what, k, got[k])
		}
	}
}

// headerView reduces headers to the probe's names: trimmed values, nil
// when absent.
func headerView(h map[string][]string, want map[string][]string) map[string][]string {
	out := map[string][]string{}
	for name := range want {
		var vals []string
		found := false
		for k, v := range h {
			if strings.EqualFold(k, name) {
				found = true
				for _, x := range v {
					vals = append(vals, strings.TrimSpace(x))
				}
			}
		}
		if found && vals == nil {
			vals = []string{}
		}
		out[name] = vals
	}
	return out
}

func sameHeaders(t testing.TB, what string, h map[string][]string, want map[string][]string) {
	t.Helper()
	got := headerView(h, want)
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("%s: %s = %q, want %q (nil = absent)", what, name, got[name], w)
		}
	}
}

// TestProbeKongwire runs the probe scenarios through internal/kongwire.
// It needs no Kong: it keeps the fast inner loop honest about what real
// Kong was observed to do.
func TestProbeKongwire(t *testing.T) {
	bin := kongwire.BuildDir(t, "testdata/plugins/authkit-probe", probePlugin)
	srv := kongwire.Start(t, bin)
	srv.SetConsumers(kongwire.Consumer{ID: "3f2b8a2e-6a55-4a59-9a1f-3c0a2b1d4e5f", Username: "probe-user", CreatedAt: 1})
	access := srv.StartInstance(t, map[string]any{"mode": "access"})
	respInst := srv.StartInstance(t, map[string]any{"mode": "response"})

	t.Run("read", func(t *testing.T) {
		res := access.Access(t, &kongwire.Request{Path: "/probe", RawQuery: probeReadQuery, Headers: probeReadHeaders.Clone()})
		sameMap(t, "kongwire read", jsonMap(t, "read", res.Body), probeReadWant)
	})
	t.Run("set", func(t *testing.T) {
		res := access.Access(t, &kongwire.Request{Path: "/probe", Headers: probeSetHeaders.Clone()})
		sameHeaders(t, "kongwire upstream", res.UpstreamHeaders, probeSetWant)
	})
	t.Run("exit", func(t *testing.T) {
		res := access.Access(t, &kongwire.Request{Path: "/probe", Headers: hdr("X-Probe", "exit")})
		if res.Status != 401 || string(res.Body) != `{"message":"probe","code":"PROBE"}` {
			t.Fatalf("exit %d %s", res.Status, res.Body)
		}
		sameHeaders(t, "kongwire exit", res.Headers, probeExitWant)
	})
	t.Run("serialize", func(t *testing.T) {
		res := access.Access(t, &kongwire.Request{Path: "/probe", Headers: hdr("X-Probe", "serialize")})
		ak, _ := res.Serialize["authkit"].(map[string]any)
		sameMap(t, "kongwire serialize", ak, probeSerializeWant)
		dotted, _ := res.Serialize["probe"].(map[string]any)
		sameMap(t, "kongwire dotted", dotted, probeDottedWant)
		if len(res.Logs) != 1 || res.Logs[0].Message != probeLogWant || res.Logs[0].Level != "notice" {
			t.Errorf("log lines %+v, want one notice %q", res.Logs, probeLogWant)
		}
	})
	t.Run("response", func(t *testing.T) {
		body := []byte(`{"ok":true}`)
		up := &kongwire.Upstream{Status: 200, Body: body, Headers: http.Header{
			"Content-Type": {"application/json"}, "X-Multi": {"m1", "m2"}, "Cache-Control": {"no-store"}}}
		req := &kongwire.Request{Path: "/probe-response"}
		if res := respInst.Access(t, req); res.Exited {
			t.Fatal("access exited")
		}
		res := respInst.Response(t, req, up)
		sameMap(t, "kongwire response", jsonMap(t, "X-Probe-Response", []byte(res.Header("X-Probe-Response"))), probeResponseWant(len(body)))
	})
}

var logMessageRE = regexp.MustCompile(`\[kong\] pb_rpc\.lua:\d+ (.*?), client: `)

// testProbe runs the same scenarios in the real gateway.
func testProbe(t *testing.T, f *fixture) {
	t.Run("read", func(t *testing.T) {
		r := send(t, f.kong, http.MethodGet, "/probe?"+probeReadQuery, probeReadHeaders.Clone(), "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		sameMap(t, "real Kong read", jsonMap(t, "read", r.Body), probeReadWant)
	})
	t.Run("set", func(t *testing.T) {
		r := send(t, f.kong, http.MethodGet, "/probe", probeSetHeaders.Clone(), "")
		sameHeaders(t, "real Kong upstream", r.echo(t).Headers, probeSetWant)
	})
	t.Run("exit", func(t *testing.T) {
		r := get(t, f.kong, "/probe", "X-Probe", "exit")
		if r.Status != 401 || string(r.Body) != `{"message":"probe","code":"PROBE"}` {
			t.Fatalf("exit %d %s", r.Status, r.Body)
		}
		sameHeaders(t, "real Kong exit", r.Header, probeExitWant)
	})
	t.Run("serialize", func(t *testing.T) {
		r := get(t, f.kong, "/probe", "X-Probe", "serialize")
		r.echo(t)
		entry := fileLogEntry(t, f.fileLog, r.ReqID)
		ak, _ := entry["authkit"].(map[string]any)
		sameMap(t, "real Kong serialize", ak, probeSerializeWant)
		dotted, _ := entry["probe"].(map[string]any)
		sameMap(t, "real Kong dotted", dotted, probeDottedWant)
		var msgs []string
		for _, line := range strings.Split(f.kong.ErrorLog(), "\n") {
			if strings.Contains(line, r.ReqID) {
				if m := logMessageRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "[notice]") {
					msgs = append(msgs, m[1])
				}
			}
		}
		if len(msgs) != 1 || msgs[0] != probeLogWant {
			t.Errorf("notice lines %q, want one %q", msgs, probeLogWant)
		}
	})
	t.Run("response", func(t *testing.T) {
		r := get(t, f.kong, "/probe-response", "X-Echo-Multi", "1")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		sameMap(t, "real Kong response", jsonMap(t, "X-Probe-Response", []byte(r.Header.Get("X-Probe-Response"))), probeResponseWant(len(r.Body)))
	})
}
