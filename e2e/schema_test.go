package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
)

// badField is one config error Kong's schema must refuse.
type badField struct {
	plugin, field string
	value         any
	// kong is the message Kong gives for the field.
	kong string
}

var badFields = []badField{
	{"authkit-basic", "realmx", "service", "unknown field"},
	{"authkit-basic", "max_failures", "three", "expected an integer"},
	{"authkit-key", "key_name", "apikey", "unknown field"},
	{"authkit-key", "hide_credentials", "yes", "expected a boolean"},
	{"authkit-oauth", "audience", "https://api.example.test", "unknown field"},
	{"authkit-oauth", "leeway_seconds", "30s", "expected an integer"},
	{"authkit-oauth-explain", "allowed_redirect_uri", []any{"https://app.example/cb"}, "unknown field"},
	{"authkit-oauth-explain", "enforce", "true", "expected a boolean"},
}

// schemaConfig puts each bad field on its own route, next to an
// otherwise valid config (so that only Kong's schema is at stake).
func schemaConfig(t testing.TB, bad []badField, extra ...obj) []byte {
	valid := map[string]obj{
		"authkit-basic": {"credentials": []any{obj{"username": "alice", "password_hash": bcryptHash(t, alicePassword), "consumer": "alice"}}},
		"authkit-key":   {"credentials": []any{obj{"id": "k", "consumer": "alice", "key_hash": sha256Key(aliceKey)}}},
		"authkit-oauth": {"issuer": "https://idp.example.test"},
	}
	var routes []any
	for i, b := range bad {
		cfg := obj{b.field: b.value}
		for k, v := range valid[b.plugin] {
			cfg[k] = v
		}
		routes = append(routes, route(b.plugin+"-"+b.field, "/s"+string(rune('a'+i)), plugin(b.plugin, cfg)))
	}
	for _, r := range extra {
		routes = append(routes, r)
	}
	return marshal(t, obj{"_format_version": "3.0", "services": []any{obj{"name": "s", "url": "http://127.0.0.1:9", "routes": routes}},
		"consumers": []any{obj{"username": "alice"}}})
}

type checkProblem struct {
	Path, Plugin, Field, Message, Severity string
}

// authkitCheck runs the built CLI's `authkit check --json` on cfg.
func authkitCheck(t testing.TB, bin string, cfg []byte) []checkProblem {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kong.yaml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bin, "authkit"), "check", "--json", path).Output()
	var ps []checkProblem
	if jerr := json.Unmarshal(out, &ps); jerr != nil {
		t.Fatalf("authkit check: %v %v: %s", err, jerr, out)
	}
	return ps
}

// TestSchemaAsKongSeesIt: for each plugin, a field Kong does not know and a
// value of the wrong type. Kong refuses the kong.yaml at start-up, naming
// each field; `authkit check` reports the same fields with the same
// messages, offline. (TestGateway/schema does the same through POST
// /config, and shows what only the plugin refuses.)
func TestSchemaAsKongSeesIt(t *testing.T) {
	realkong.Require(t)
	bin := realkong.BuildPlugins(t, probeDir)
	plugins := realkong.Plugins(t)
	bad := schemaConfig(t, badFields)
	problems := authkitCheck(t, bin, bad)
	if len(problems) != len(badFields) {
		t.Errorf("authkit check reports %d problems for %d bad fields: %+v", len(problems), len(badFields), problems)
	}
	for _, b := range badFields {
		found := false
		for _, p := range problems {
			if p.Plugin == b.plugin && p.Field == "config."+b.field && p.Severity == "error" &&
				p.Message == b.kong+" (Kong refuses the config at start-up)" {
				found = true
			}
		}
		if !found {
			t.Errorf("authkit check does not report %s config.%s: %q; got %+v", b.plugin, b.field, b.kong, problems)
		}
	}

	t.Run("kong start refuses it", func(t *testing.T) {
		_, err := realkong.TryStart(t, realkong.Options{BinDir: bin, Plugins: plugins, Config: bad})
		if err == nil {
			t.Fatal("Kong started with an invalid kong.yaml")
		}
		for _, b := range badFields {
			// Kong's nested message: "in 'config': in '<field>': <message>".
			if want := "in '" + b.field + "': " + b.kong; !strings.Contains(err.Error(), want) {
				t.Errorf("kong start: no %q for %s", want, b.plugin)
			}
		}
		if t.Failed() {
			t.Log(err)
		}
	})

	t.Run("kong config parse cannot load Go plugins", func(t *testing.T) {
		// Kong 3.9.3's CLI calls kong.log in the external plugin loader
		// (kong/runloop/plugin_servers/process.lua:90) where there is no
		// kong global: `kong config parse` fails on any file with a Go
		// plugin, valid or not. Use `authkit check` (or POST /config).
		out, ok := realkong.ParseConfig(t, bin, plugins, schemaConfig(t, nil))
		if ok || !strings.Contains(out, "attempt to index upvalue 'kong'") {
			t.Fatalf("kong config parse changed (update docs/kong-behaviour.md): ok=%v\n%s", ok, out)
		}
	})
}

// testSchema, on the shared gateway: POST /config refuses the same fields
// as kong start and authkit check (and changes nothing), while a config
// that only the plugin's compiler refuses (t-basic-bad: a plaintext
// password) was accepted by Kong at start-up; `authkit check` reports
// exactly that entry, and the route answers CONFIG_INVALID (testBasic).
func testSchema(t *testing.T, f *fixture) {
	status, body := f.kong.PostConfig(t, schemaConfig(t, badFields))
	if status != 400 {
		t.Fatalf("POST /config: %d %s", status, body)
	}
	var res struct {
		Flattened []struct {
			EntityName string `json:"entity_name"`
			Errors     []struct{ Field, Message string }
		} `json:"flattened_errors"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range res.Flattened {
		for _, fe := range e.Errors {
			got[e.EntityName+" "+fe.Field] = fe.Message
		}
	}
	for _, b := range badFields {
		if m := got[b.plugin+" config."+b.field]; m != b.kong {
			t.Errorf("POST /config: %s config.%s: %q, want %q (all: %v)", b.plugin, b.field, m, b.kong, got)
		}
	}
	if len(got) != len(badFields) {
		t.Errorf("POST /config: %d errors for %d bad fields: %v", len(got), len(badFields), got)
	}
	// The rejected config changed nothing.
	if r := get(t, f.kong, "/t/basic"); r.bodyCode() != "BASIC_MISSING" {
		t.Fatalf("after a rejected POST /config: %d %s", r.Status, r.Body)
	}

	var ps []checkProblem
	for _, p := range authkitCheck(t, f.bin, f.cfg) {
		if p.Plugin != probePlugin { // the test plugin is unknown to the CLI, rightly
			ps = append(ps, p)
		}
	}
	if len(ps) != 1 || ps[0].Plugin != "authkit-basic" || ps[0].Field != "config.credentials[0].password_hash" ||
		!strings.Contains(ps[0].Message, "CONFIG_INVALID") {
		t.Fatalf("authkit check on the running config: want only t-basic-bad's plaintext password, got %+v", ps)
	}
}
