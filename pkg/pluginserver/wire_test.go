package pluginserver_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// The same test plugin built on the project's server and on go-pdk's.
func pstest(t *testing.T, gopdk bool) string {
	t.Helper()
	dir := filepath.Join("testdata", "plugins", "pstest")
	if gopdk {
		return kongwire.BuildDir(t, dir, "pstest", "gopdkserver")
	}
	return kongwire.BuildDir(t, dir, "pstest")
}

// -dump is the project's (dump.go): go-pdk's envelope (protocol, name,
// phases, version, priority) and go-pdk's field names and types, plus the
// Kong attributes the config declares, which go-pdk never emits. go-pdk
// encodes schema maps in random key order, so the comparison is on the
// decoded JSON.
func TestDumpIsGoPDKs(t *testing.T) {
	decode := func(bin string) map[string]any {
		out, err := exec.Command(bin, "-dump").Output()
		if err != nil {
			t.Fatalf("%s -dump: %v", bin, err)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s -dump: %v\n%s", bin, err, out)
		}
		return v
	}
	ours, theirs := decode(pstest(t, false)), decode(pstest(t, true))
	if !reflect.DeepEqual(goPDKOnly(ours), theirs) {
		t.Fatalf("-dump differs from go-pdk's beyond the added attributes:\nours   %v\ngo-pdk %v", goPDKOnly(ours), theirs)
	}
	config := ours["Plugins"].([]any)[0].(map[string]any)["Schema"].(map[string]any)["fields"].([]any)[0].(map[string]any)["config"].(map[string]any)
	field := func(rec map[string]any, name string) map[string]any {
		for _, f := range rec["fields"].([]any) {
			if v, ok := f.(map[string]any)[name]; ok {
				return v.(map[string]any)
			}
		}
		t.Fatalf("no field %s in %v", name, rec)
		return nil
	}
	if m := field(config, "message"); m["default"] != "hi" || m["len_min"] != float64(0) {
		t.Errorf("message: the default and len_min are missing: %v", m)
	}
	if c := field(config, "count"); !reflect.DeepEqual(c["between"], []any{float64(0), float64(100)}) {
		t.Errorf("count: between %v", c["between"])
	}
	if n := field(field(config, "inner"), "name"); !reflect.DeepEqual(n["one_of"], []any{"a", "b"}) {
		t.Errorf("inner.name: one_of %v", n["one_of"])
	}
	kongwire.Dump(t, pstest(t, false)) // stdout is one JSON object and nothing else
}

// goPDKOnly strips from a decoded -dump every schema attribute go-pdk's
// generator does not emit (it emits type, fields, elements, keys, values,
// and between for unsigned integers).
func goPDKOnly(v any) any {
	switch v := v.(type) {
	case map[string]any:
		_, isField := v["type"]
		out := map[string]any{}
		for k, x := range v {
			if isField {
				switch k {
				case "type", "fields", "elements", "keys", "values":
				case "between":
					if v["type"] != "integer" || !reflect.DeepEqual(x, []any{float64(0), float64(2147483648)}) {
						continue
					}
				default:
					continue
				}
			}
			out[k] = goPDKOnly(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = goPDKOnly(x)
		}
		return out
	}
	return v
}

func req(h ...string) *kongwire.Request {
	r := &kongwire.Request{Method: "POST", Path: "/x", RawQuery: "a=1", Headers: http.Header{}}
	for i := 0; i+1 < len(h); i += 2 {
		r.Headers.Set(h[i], h[i+1])
	}
	return r
}

// go-pdk's API works unchanged over the project's connection, with the same
// effects and the same calls as on go-pdk's server.
func TestGoPDKAPIUnchanged(t *testing.T) {
	for _, gopdk := range []bool{false, true} {
		s := kongwire.Start(t, pstest(t, gopdk))
		inst := s.StartInstance(t, map[string]any{"message": "hi"})
		res := inst.Access(t, req())
		if res.Err != nil || res.UpstreamHeaders.Get("X-Seen") != "POST" || len(res.Logs) != 1 || res.Logs[0].Message != "stock hi" {
			t.Fatalf("gopdk=%v: %+v", gopdk, res)
		}
		kongwire.CheckTrips(t, "stock API", res, 4, 5, "kong.request.get_headers", "kong.request.get_method",
			"kong.service.request.set_header", "kong.log.notice")

		res = inst.Access(t, req("X-Exit", "1"))
		if !res.Exited || res.Status != 403 || string(res.Body) != `{"message":"denied"}` {
			t.Fatalf("gopdk=%v exit: %+v", gopdk, res)
		}
	}
}

// Batched reads cost one round trip; deferred calls cost none and still
// take effect before the event ends, in order.
func TestBatchAndDeferred(t *testing.T) {
	s := kongwire.Start(t, pstest(t, false))
	inst := s.StartInstance(t, map[string]any{"message": "hi"})
	res := inst.Access(t, req("X-Mode", "pipelined"))
	if res.Err != nil || res.Exited {
		t.Fatalf("%+v", res)
	}
	if got := res.UpstreamHeaders.Get("X-Seen"); got != "POST?a=1" {
		t.Fatalf("the deferred set_header did not land: X-Seen %q", got)
	}
	if len(res.Logs) != 1 || res.Logs[0].Message != "pipelined hi" {
		t.Fatalf("logs %v", res.Logs)
	}
	// get_headers, then the batch; the deferred calls go with the end.
	kongwire.CheckTrips(t, "pipelined", res, 2, 3, "kong.request.get_headers", "kong.request.get_method",
		"kong.request.get_raw_query", "kong.service.request.set_header", "kong.log.notice")

	// The same connection serves the next events: the owed replies were
	// dropped, not read as the next command.
	for i := 0; i < 5; i++ {
		if r := inst.Access(t, req("X-Mode", "pipelined")); r.Err != nil || r.UpstreamHeaders.Get("X-Seen") != "POST?a=1" {
			t.Fatalf("event %d on a reused connection: %+v", i, r)
		}
	}

	// Deferred calls before an exit are served before it, in one write.
	res = inst.Access(t, req("X-Mode", "pipelined", "X-Exit", "1"))
	if !res.Exited || res.Status != 403 || res.UpstreamHeaders.Get("X-Seen") != "POST?a=1" || len(res.Logs) != 1 {
		t.Fatalf("exit after deferred calls: %+v", res)
	}
	kongwire.CheckTrips(t, "pipelined exit", res, 2, 3, "kong.request.get_headers", "kong.request.get_method",
		"kong.request.get_raw_query", "kong.service.request.set_header", "kong.log.notice", "kong.response.exit")
	if r := inst.Access(t, req()); r.Err != nil {
		t.Fatalf("after an exit: %v", r.Err)
	}
}

// A panic the handler does not recover is answered with Kong's 500 and a
// log line; the deferred calls before it still reach Kong; the process and
// its other requests live. go-pdk would die here.
func TestPanicInHandler(t *testing.T) {
	s := kongwire.Start(t, pstest(t, false))
	inst := s.StartInstance(t, nil)
	res := inst.Access(t, req("X-Panic", "before-exit"))
	if res.Err != nil || !res.Exited || res.Status != 500 || string(res.Body) != pluginserver.PanicBody {
		t.Fatalf("panic: %+v", res)
	}
	if len(res.Logs) != 2 || res.Logs[0].Message != "about to panic" || res.Logs[1].Level != "err" ||
		!strings.Contains(res.Logs[1].Message, "recovered panic in the access handler: pstest: asked to panic") {
		t.Fatalf("logs %+v", res.Logs)
	}
	if s.Exited() {
		t.Fatal("the process died")
	}
	if r := inst.Access(t, req()); r.Err != nil || r.Exited {
		t.Fatalf("after the panic: %+v", r)
	}
}

// A config whose decoding panics fails StartInstance (Kong answers 500 and
// logs it), not the process.
func TestPanicInStartInstance(t *testing.T) {
	s := kongwire.Start(t, pstest(t, false))
	if _, err := s.TryStartInstance(map[string]any{"panic_on_start": true}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("err = %v, want closed", err)
	}
	if s.Exited() {
		t.Fatal("the process died")
	}
	if r := s.StartInstance(t, nil).Access(t, req()); r.Err != nil {
		t.Fatal(r.Err)
	}
}

// Closing one instance leaves the others alone (go-pdk's CloseInstance
// drops every instance started more than 60 s earlier).
func TestCloseLeavesOthers(t *testing.T) {
	s := kongwire.Start(t, pstest(t, false))
	a := s.StartInstance(t, map[string]any{"message": "a"})
	b := s.StartInstance(t, map[string]any{"message": "b"})
	s.CloseInstance(t, a)
	if r := b.Access(t, req()); r.Err != nil || r.Logs[0].Message != "stock b" {
		t.Fatalf("b after closing a: %+v", r)
	}
	// An event for a closed instance closes the connection: Kong then
	// restarts the instance (pb_rpc.lua handle_event).
	if r := a.Access(t, req()); r.Err == nil || r.Err.Error() != "closed" {
		t.Fatalf("closed instance: %+v", r)
	}
}
