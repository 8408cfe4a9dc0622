package kongwire_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

const echoName = "kongwire-echo"

func echoBin(t *testing.T) string {
	t.Helper()
	return kongwire.BuildDir(t, "testdata/plugins/"+echoName, echoName)
}

// echoConfig mirrors the test plugin's Config for JSONTags.
type echoConfig struct {
	Message     string            `json:"message"`
	Enabled     *bool             `json:"enabled"`
	Count       int               `json:"count"`
	Limit       uint32            `json:"limit"`
	Tags        []string          `json:"tags"`
	Labels      map[string]string `json:"labels"`
	Inner       struct{}          `json:"inner"`
	Credentials []struct{}        `json:"credentials"`
	TTL         int64             `json:"ttl"`
}

func TestDumpShape(t *testing.T) {
	info := kongwire.Dump(t, echoBin(t))
	if info.Protocol != "ProtoBuf:1" {
		t.Errorf("Protocol = %q", info.Protocol)
	}
	p := info.Plugins[0]
	if p.Name != echoName || p.Version != "0.1.0" || p.Priority != 1000 {
		t.Errorf("plugin info = %+v", p)
	}
	if strings.Join(p.Phases, ",") != "access,response" {
		t.Errorf("Phases = %v", p.Phases)
	}
	cfg, err := info.ConfigSchema()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range cfg.Fields {
		names = append(names, f.Name+":"+f.Field.Type)
	}
	want := "message:string,enabled:boolean,count:integer,limit:integer,tags:array,labels:map,inner:record,credentials:array"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("fields = %s\nwant     %s", got, want)
	}
	limit := cfg.Fields[3].Field
	if len(limit.Between) != 2 || limit.Between[1] != 2147483648 {
		t.Errorf("limit between = %v", limit.Between)
	}
	if cfg.Fields[7].Field.Elements.Type != "record" {
		t.Errorf("credentials elements = %+v", cfg.Fields[7].Field.Elements)
	}
}

// recorder captures t.Errorf from the harness so tests can assert on it.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, strings.TrimSpace(format))
	_ = args
}

func (r *recorder) Helper() {}

func TestCheckSchemaCatchesDroppedInt64(t *testing.T) {
	info := kongwire.Dump(t, echoBin(t))
	tags := kongwire.JSONTags(echoConfig{})
	if strings.Join(tags, ",") != "message,enabled,count,limit,tags,labels,inner,credentials,ttl" {
		t.Fatalf("JSONTags = %v", tags)
	}
	rec := &recorder{TB: t}
	kongwire.CheckSchema(rec, info, tags)
	if len(rec.errs) != 1 {
		t.Fatalf("CheckSchema errors = %v, want exactly one (ttl)", rec.errs)
	}
	// Without the dropped field the schema is clean.
	rec = &recorder{TB: t}
	kongwire.CheckSchema(rec, info, append(tags[:8:8], "inner.username", "inner.strict"))
	if len(rec.errs) != 0 {
		t.Fatalf("unexpected CheckSchema errors: %v", rec.errs)
	}
}

func TestJSONTags(t *testing.T) {
	type Emb struct {
		A string `json:"a"`
	}
	type C struct {
		Emb
		ApiEndPoint string
		Skip        string `json:"-"`
		Opt         string `json:"opt,omitempty"`
		hidden      string
	}
	_ = C{}.hidden
	if got := strings.Join(kongwire.JSONTags(&C{}), ","); got != "a,apiendpoint,opt" {
		t.Errorf("JSONTags = %s", got)
	}
}

func TestNormalize(t *testing.T) {
	cfg, err := kongwire.Dump(t, echoBin(t)).ConfigSchema()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Normalize(map[string]any{"message": "hi", "count": float64(3), "tags": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(out)
	want := `{"count":3,"credentials":null,"enabled":null,"inner":{"strict":null,"username":null},"labels":null,"limit":null,"message":"hi","tags":[]}`
	if string(js) != want {
		t.Errorf("normalized = %s\nwant         %s", js, want)
	}

	cases := []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"ttl": 5}, "in 'config': in 'ttl': unknown field"},
		{map[string]any{"message": 5}, "in 'config': in 'message': expected a string"},
		{map[string]any{"message": ""}, "in 'config': in 'message': length must be at least 1"},
		{map[string]any{"enabled": "yes"}, "in 'config': in 'enabled': expected a boolean"},
		{map[string]any{"count": 1.5}, "in 'config': in 'count': expected an integer"},
		{map[string]any{"limit": -1}, "in 'config': in 'limit': value should be between 0 and 2147483648"},
		{map[string]any{"tags": "a"}, "in 'config': in 'tags': expected an array"},
		{map[string]any{"labels": []any{"x"}}, "in 'config': in 'labels': expected a map"},
		{map[string]any{"inner": "x"}, "in 'config': in 'inner': expected a record"},
		{map[string]any{"inner": nil}, "in 'config': in 'inner': required field missing"},
		{map[string]any{"inner": map[string]any{"nope": 1}}, "in 'config': in 'inner': in 'nope': unknown field"},
		{map[string]any{"credentials": []any{map[string]any{"username": "a"}, map[string]any{"username": 7}}},
			"in 'config': in 'credentials': in entry 2 of 'credentials': in 'username': expected a string"},
	}
	for _, c := range cases {
		_, err := cfg.Normalize(c.cfg)
		if err == nil || err.Error() != c.want {
			t.Errorf("Normalize(%v) error = %v\nwant %s", c.cfg, err, c.want)
		}
	}
}

func TestAccessExitAndPassThrough(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, map[string]any{"message": "hello", "tags": []any{"a", "b"}, "count": 2})
	if inst.ID != int32(inst.Seq) {
		t.Errorf("instance id %d, want __seq__ %d (go-pdk ≥0.10)", inst.ID, inst.Seq)
	}

	res := inst.Access(t, &kongwire.Request{Headers: http.Header{"X-Exit": {"403"}}})
	if res.Err != nil || !res.Exited || res.Status != 403 || string(res.Body) != `{"message":"denied"}` {
		t.Fatalf("exit result = %+v", res)
	}
	if got := res.Headers.Values("X-Multi"); strings.Join(got, ",") != "a,b" {
		t.Errorf("X-Multi = %v", got)
	}
	if res.Headers.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", res.Headers)
	}
	// exit is never answered, so only get_headers is a round trip.
	if strings.Join(res.Calls, ",") != "kong.request.get_headers,kong.response.exit" || res.RoundTrips() != 1 {
		t.Errorf("calls = %v, round trips %d", res.Calls, res.RoundTrips())
	}

	res = inst.Access(t, &kongwire.Request{Headers: http.Header{"X-User": {"alice"}}})
	if res.Err != nil || res.Exited {
		t.Fatalf("pass-through result = %+v", res)
	}
	if res.UpstreamHeaders.Get("X-Echo-Message") != "hello" || res.UpstreamHeaders.Get("X-Echo-Tags") != "a,b" ||
		res.UpstreamHeaders.Get("X-User") != "alice" {
		t.Errorf("upstream headers = %v", res.UpstreamHeaders)
	}
	if len(res.Logs) != 1 || res.Logs[0] != (kongwire.LogLine{Level: "notice", Message: "echo hello count=2"}) {
		t.Errorf("logs = %+v", res.Logs)
	}
	if res.RoundTrips() != 6 {
		t.Errorf("round trips = %d (%v), want 6", res.RoundTrips(), res.Calls)
	}
	if got, _ := json.Marshal(res.Serialize); string(got) != `{"authkit":{"ok":true,"user":"alice"}}` {
		t.Errorf("serialize = %s", got)
	}

	// Go false arrives in Lua as nil: set_serialize_value deletes the key.
	res = inst.Access(t, &kongwire.Request{Headers: http.Header{"X-User": {"bob"}, "X-Flag-False": {"1"}}})
	if got, _ := json.Marshal(res.Serialize); string(got) != `{"authkit":{"user":"bob"}}` {
		t.Errorf("serialize after false = %s", got)
	}

	// Response phase: upstream answer plus the plugin's header.
	req := &kongwire.Request{}
	res = inst.Response(t, req, &kongwire.Upstream{Status: 201, Headers: http.Header{"X-Up": {"1"}}, Body: []byte("ok")})
	if res.Err != nil || res.Status != 201 || string(res.Body) != "ok" || res.Header("X-Upstream-Status") != "201" || res.Header("X-Up") != "1" {
		t.Errorf("response result = %+v", res)
	}
	srv.CloseInstance(t, inst)
}

func TestConsumers(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	alice := kongwire.Consumer{ID: "8a1f7c1e-2b9e-4a52-9d7e-0c5e3f0a9b11", Username: "alice"}
	srv.SetConsumers(alice)
	inst := srv.StartInstance(t, nil)

	res := inst.Access(t, &kongwire.Request{Headers: http.Header{"X-Load-Consumer": {"00000000-0000-4000-8000-000000000000"}}})
	// An unknown consumer is an empty entity; the echo plugin then sets the
	// headers to "", which Kong sends as present and empty (" ").
	if res.Err != nil || res.UpstreamHeaders.Get("X-Consumer-ID") != " " || res.UpstreamHeaders.Get("X-Consumer-Username") != " " {
		t.Errorf("unknown consumer: %+v", res)
	}
	res = inst.Access(t, &kongwire.Request{Headers: http.Header{"X-Load-Consumer": {"alice"}, "X-By-Username": {"1"}, "X-Auth": {"1"}}})
	if res.UpstreamHeaders.Get("X-Consumer-ID") != alice.ID || !res.Authenticated || res.AuthConsumer.Username != "alice" ||
		res.AuthCredential.ConsumerID != alice.ID {
		t.Errorf("by username: %+v", res)
	}

	// A non-UUID id without by_username is a Lua error: 500 and a test failure.
	rec := &recorder{TB: t}
	res = inst.Access(rec, &kongwire.Request{Headers: http.Header{"X-Load-Consumer": {"alice"}}})
	if res.Status != 500 || res.Err == nil || !strings.Contains(res.Err.Error(), "not a uuid") || len(rec.errs) != 1 {
		t.Errorf("non-uuid: status %d err %v reported %v", res.Status, res.Err, rec.errs)
	}
}

func TestUnknownMethod(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, nil)
	rec := &recorder{TB: t}
	res := inst.Access(rec, &kongwire.Request{Headers: http.Header{"X-Unknown-Method": {"kong.nope.nothing"}}})
	if res.Status != 500 || res.Err == nil || res.Err.Error() != `method "kong.nope.nothing" not found` || len(rec.errs) != 1 {
		t.Errorf("unknown method: %+v reported %v", res, rec.errs)
	}
	// The server is still usable after the aborted event.
	if res := inst.Access(t, nil); res.Err != nil {
		t.Errorf("after unknown method: %v", res.Err)
	}
}

func TestConcurrentAccess(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, map[string]any{"message": "c"})
	var wg sync.WaitGroup
	results := make([]*kongwire.Result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = inst.Access(t, &kongwire.Request{Headers: http.Header{"X-Sleep": {"100"}, "X-User": {string(rune('a' + i))}}})
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.Err != nil || res.UpstreamHeaders.Get("X-Echo-Message") != "c" {
			t.Errorf("result %d = %+v", i, res)
		}
		if u := res.Serialize["authkit"].(map[string]any)["user"]; u != string(rune('a'+i)) {
			t.Errorf("result %d serialize user = %v", i, u)
		}
	}
}

func TestCrash(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	srv.ExpectCrash()
	inst := srv.StartInstance(t, nil)
	res := inst.Access(t, &kongwire.Request{Headers: http.Header{"X-Panic": {"1"}}})
	if res.Err == nil || res.Err.Error() != "closed" || res.Status != 500 {
		t.Fatalf("crash result = %+v", res)
	}
	if !strings.Contains(strings.Join(res.ProcessOutput, "\n"), "asked to panic") {
		t.Errorf("process output lacks the panic: %v", res.ProcessOutput)
	}
}

func TestStartInstanceBadConfig(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	if _, err := srv.TryStartInstance(map[string]any{"nope": true}); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("err = %v", err)
	}
	// Valid for Kong (an integral Lua number) but not for Go's int: go-pdk
	// fails to decode the config and closes the connection.
	_, err := srv.TryStartInstance(map[string]any{"count": 1e300})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("err = %v, want closed", err)
	}
	// The server survives (go-pdk only drops that connection).
	srv.StartInstance(t, nil)
}

// Kong's header setters never send an empty value: "" becomes " " (the
// header stays, present and empty), and only an empty list removes a
// header (kong/pdk/private/checks.lua normalize_multi_header; observed in
// Kong 3.9.3, docs/kong-behaviour.md).
func TestSetHeadersEmptyValues(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, nil)
	res := inst.Access(t, &kongwire.Request{Headers: http.Header{
		"X-Set-Headers": {"1"}, "X-Removed": {"client"}, "X-Empty-String": {"client"}, "X-Cleared": {"client"},
	}})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	h := res.UpstreamHeaders
	if _, ok := h["X-Removed"]; ok {
		t.Errorf("an empty list must remove the header: %v", h)
	}
	if _, ok := h["X-Cleared"]; ok {
		t.Errorf("clear_header must remove the header: %v", h)
	}
	if got, ok := h["X-Empty-String"]; !ok || len(got) != 1 || got[0] != " " {
		t.Errorf(`"" must stay as a present, empty (" ") header: %q`, got)
	}
	if got := h.Values("X-Multi-Empty"); len(got) != 2 || got[0] != "a" || got[1] != " " {
		t.Errorf(`list items "" must become " ": %q`, got)
	}
}

// A body larger than client_body_buffer_size reaches the plugin as a file
// path (pb_rpc.lua's body_filepath); go-pdk's GetRawBody reads the file,
// and fails when the plugin does not share Kong's filesystem.
func TestSpooledBody(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, map[string]any{"message": "m"})
	for _, n := range []int{0, kongwire.DefaultClientBodyBufferSize, kongwire.DefaultClientBodyBufferSize + 1, 3 << 20} {
		res := inst.Access(t, &kongwire.Request{Method: "POST", Body: []byte(strings.Repeat("a", n)), Headers: http.Header{"X-Raw-Body": {"1"}}})
		h := res.UpstreamHeaders
		spooled := n > kongwire.DefaultClientBodyBufferSize
		if h.Get("X-Echo-Body-Len") != strconv.Itoa(n) || h.Get("X-Echo-Body-Err") != "" || (h.Get("X-Echo-Body-File") == "yes") != spooled {
			t.Fatalf("%d bytes: %v", n, h)
		}
	}
	if files, _ := os.ReadDir(filepath.Join(srv.Prefix, "client_body_temp")); len(files) != 0 {
		t.Fatalf("spooled files outlive their request: %d", len(files))
	}
	srv.BodyFileUnreachable = true
	res := inst.Access(t, &kongwire.Request{Method: "POST", Body: []byte(strings.Repeat("a", 64<<10)), Headers: http.Header{"X-Raw-Body": {"1"}}})
	if h := res.UpstreamHeaders; h.Get("X-Echo-Body-Len") != "0" || !strings.Contains(h.Get("X-Echo-Body-Err"), "no such file") {
		t.Fatalf("unreachable file: %v", h)
	}
}

// Kong escapes control characters in a request header value a plugin sets
// (lua-nginx, seen in Kong 3.9.3) instead of refusing or dropping them.
func TestSetHeaderEscapesControlCharacters(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, map[string]any{"message": "a\r\nX-Evil: 1\x00\tb"})
	res := inst.Access(t, &kongwire.Request{Headers: http.Header{"X-Client": {"c\x01d"}}})
	if got := res.UpstreamHeaders.Get("X-Echo-Message"); got != "a%0D%0AX-Evil: 1%00\tb" {
		t.Fatalf("X-Echo-Message %q", got)
	}
	if got := res.UpstreamHeaders.Get("X-Client"); got != "c\x01d" {
		t.Fatalf("a client header is forwarded as sent: %q", got)
	}
}

// A header that is not UTF-8 (nginx accepts it; Kong's lua-protobuf encodes
// it as is) makes go-pdk's GetHeaders fail: the plugin sees no headers.
func TestHeaderNotUTF8(t *testing.T) {
	srv := kongwire.Start(t, echoBin(t))
	inst := srv.StartInstance(t, map[string]any{"message": "m"})
	res := inst.Access(t, &kongwire.Request{Headers: http.Header{"X-User": {"alice"}, "X-Latin1": {"caf\xe9"}}})
	if res.Err != nil || res.Exited {
		t.Fatalf("%+v", res)
	}
	if got, _ := json.Marshal(res.Serialize); string(got) != `{"authkit":{"ok":true,"user":""}}` {
		t.Errorf("the plugin must not see X-User: serialize = %s", got)
	}
}
