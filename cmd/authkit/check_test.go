package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

func repoFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// brokenKongYAML copies the repository's kong.yaml into a temporary
// directory with old replaced by new (old must occur exactly once).
func brokenKongYAML(t *testing.T, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(repoFile(t, "kong.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), old); n != 1 {
		t.Fatalf("%q occurs %d times in kong.yaml, want 1", old, n)
	}
	return writeTemp(t, "kong.yaml", strings.Replace(string(data), old, new, 1))
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// entryPath returns where the repository's kong.yaml configures plugin
// (its first entry), found independently of the code under test, so the
// tests follow edits to kong.yaml.
func entryPath(t *testing.T, plugin string) string {
	t.Helper()
	data, err := os.ReadFile(repoFile(t, "kong.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type plugins struct {
		Plugins []struct{ Name string } `json:"plugins"`
	}
	var doc struct {
		Services []struct {
			plugins
			Routes []plugins `json:"routes"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for i, s := range doc.Services {
		for j, r := range s.Routes {
			for k, p := range r.Plugins {
				if p.Name == plugin {
					return fmt.Sprintf("services[%d].routes[%d].plugins[%d]", i, j, k)
				}
			}
		}
	}
	t.Fatalf("kong.yaml has no route with %s", plugin)
	return ""
}

// checkJSON runs `authkit check --json FILE`.
func checkJSON(t *testing.T, path string) ([]problem, string, int) {
	t.Helper()
	out, errOut, code := cli(t, "", "check", "--json", path)
	var ps []problem
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatalf("exit %d, stdout not JSON: %v\n%s\nstderr: %s", code, err, out, errOut)
	}
	return ps, errOut, code
}

// lineAt returns line n (1-based) of the file.
func lineAt(t *testing.T, path string, n int) string {
	t.Helper()
	data, _ := os.ReadFile(path)
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("line %d out of range", n)
	}
	return lines[n-1]
}

func TestCheckRepoKongYAML(t *testing.T) {
	path := repoFile(t, "kong.yaml")
	data, _ := os.ReadFile(path)
	entries := len(regexp.MustCompile(`(?m)^\s*- name: authkit-`).FindAll(data, -1))
	out, errOut, code := cli(t, "", "check", path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if want := fmt.Sprintf("kong.yaml: %d authkit plugin entries, 0 problems\n", entries); out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	// The default FILE is ./kong.yaml.
	t.Chdir(filepath.Dir(path))
	if out, _, code := cli(t, "", "check"); code != 0 || !strings.Contains(out, "0 problems") {
		t.Errorf("default file: exit %d %q", code, out)
	}
}

func TestCheckBrokenKongYAML(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		field, plugin  string
		msg, lineHas   string
	}{
		{"unknown field", "realm: service\n", "realm: service\n        colour: blue\n",
			"config.colour", "authkit-basic", "unknown field", "colour: blue"},
		{"wrong type", "hide_credentials: true\n        credentials:\n        # alice", "hide_credentials: \"yes\"\n        credentials:\n        # alice",
			"config.hide_credentials", "authkit-basic", "expected a boolean", `hide_credentials: "yes"`},
		{"plaintext password_hash", `"$argon2id$v=19$m=19456,t=2,p=1$eKnJGiOXAUD1w7Ch8Ai8aQ$R23RTU5JuHbFVPDDKSNh6hNqTipB4AKBA9Iteud1+Ng"`, `"bob-demo-password"`,
			"config.credentials[1].password_hash", "authkit-basic", "not a $scheme$ password hash", "bob-demo-password"},
		{"key_hash not sha256", `key_hash: "sha256:6274`, `key_hash: "md5:6274`,
			"config.credentials[0].key_hash", "authkit-key", `"sha256:<64 hex digits>"`, "md5:"},
		{"relative redirect uri", `allowed_redirect_uris: ["http://127.0.0.1:8000/callback"]`, `allowed_redirect_uris: ["/relative"]`,
			"config.allowed_redirect_uris[0]", "authkit-oauth-explain", "not an absolute URI", `["/relative"]`},
		{"unknown authkit plugin", "- name: authkit-key\n", "- name: authkit-nope\n",
			"name", "authkit-key", "unknown authkit plugin", "authkit-nope"},
		{"empty string", "        - username: bob\n", "        - username: \"\"\n",
			"config.credentials[1].username", "authkit-basic", "length must be at least 1", `username: ""`},
		{"not one of", "realm: service\n", "realm: service\n        log_level: loud\n",
			"config.log_level", "authkit-basic", "expected one of: debug, info, notice, warn, err, crit, alert", "log_level: loud"},
		{"out of range", "cache_ttl_seconds: 300\n", "cache_ttl_seconds: -1\n",
			"config.cache_ttl_seconds", "authkit-basic", "value should be between 0 and 2147483647", "cache_ttl_seconds: -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantPath := entryPath(t, tc.plugin)
			path := brokenKongYAML(t, tc.old, tc.new)
			ps, errOut, code := checkJSON(t, path)
			plugin := tc.plugin
			if tc.name == "unknown authkit plugin" {
				plugin = "authkit-nope"
			}
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %+v", ps)
			}
			p := ps[0]
			if p.Path != wantPath || p.Field != tc.field || p.Plugin != plugin || p.Severity != "error" || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("problem %+v\nwant path %s field %s plugin %s message ~%q", p, wantPath, tc.field, plugin, tc.msg)
			}
			if got := lineAt(t, path, p.Line); !strings.Contains(got, tc.lineHas) {
				t.Errorf("line %d is %q, want the line with %q", p.Line, got, tc.lineHas)
			}
			if !strings.Contains(errOut, "1 problem (1 error, 0 warnings)") {
				t.Errorf("summary on stderr: %q", errOut)
			}
			// The human form names the file, line, entry and field.
			out, _, code := cli(t, "", "check", path)
			want := fmt.Sprintf("kong.yaml:%d: %s (%s ", p.Line, wantPath, plugin)
			if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, ": "+tc.field+": ") {
				t.Errorf("exit %d, human output:\n%s\nwant %q and field %s", code, out, want, tc.field)
			}
		})
	}
}

func TestCheckReportsEverythingAtOnce(t *testing.T) {
	// A schema error on one field must not hide the compile error of
	// another, nor invent one for the field left out.
	path := brokenKongYAML(t, "hide_credentials: true\n        credentials:\n        # alice",
		"hide_credentials: 1\n        credentials:\n        - username: eve\n          password_hash: plain\n          consumer: eve\n        # alice")
	ps, _, code := checkJSON(t, path)
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	want := []string{"config.hide_credentials", "config.credentials[0].password_hash"}
	if code != 1 || !reflect.DeepEqual(fields, want) {
		t.Errorf("exit %d, fields %q, want %q\n%+v", code, fields, want, ps)
	}
}

func TestCheckWarnings(t *testing.T) {
	doc := `_format_version: "4.0"
consumers:
- username: alice
  plugins:
  - name: authkit-basic
    config:
      credentials:
      - {username: a, password_hash: "$2a$10$e.yDTILKEkDH/FLXLK2zZuyj8AeiQZn1RF8oImGSgzQlfGlK.ySw.", consumer: alice}
plugins:
- name: authkit-oauth-explain
  consumer: alice
  config: {allowed_client_ids: [x]}
- name: rate-limiting
  config: {minute: 5}
`
	path := writeTemp(t, "kong.yaml", doc)
	ps, errOut, code := checkJSON(t, path)
	if code != 0 {
		t.Errorf("warnings only: exit %d, want 0", code)
	}
	if len(ps) != 2 || ps[0].Path != "_format_version" || ps[0].Line != 1 || ps[0].Severity != "warning" ||
		ps[1].Path != "consumers[0].plugins[0]" || ps[1].Line != 5 || ps[1].Severity != "warning" || !strings.Contains(ps[1].Message, "consumer") {
		t.Errorf("problems %+v", ps)
	}
	if !strings.Contains(errOut, "kong.yaml: 2 authkit plugin entries, 2 problems (0 errors, 2 warnings)") {
		t.Errorf("summary %q", errOut)
	}
}

const manifest = `apiVersion: v1
kind: Secret
metadata: {name: s}
stringData:
  basic.yaml: |
    - username: x
      plugins: nonsense
---
# a KongPlugin with a misspelt field
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: basic
  namespace: shop
plugin: authkit-basic
config:
  realm: api
  hide_credential: true
  credentials_file: /etc/authkit/basic.yaml
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata:
  name: key
plugin: authkit-key
config:
  key_names: [apikey]
  credentials_file: /etc/authkit/keys.yaml
`

func TestCheckKongPluginManifest(t *testing.T) {
	path := writeTemp(t, "plugins.yaml", manifest)
	ps, errOut, code := checkJSON(t, path)
	want := []problem{{Path: "KongPlugin shop/basic", Line: 18, Plugin: "authkit-basic", Field: "config.hide_credential",
		Message: "unknown field (Kong refuses the config at start-up)", Severity: "error"}}
	if code != 1 || !reflect.DeepEqual(ps, want) {
		t.Errorf("exit %d\n got %+v\nwant %+v", code, ps, want)
	}
	if !strings.Contains(errOut, "plugins.yaml: 2 authkit plugin entries, 1 problem") {
		t.Errorf("summary %q", errOut)
	}
	out, _, _ := cli(t, "", "check", path)
	if !strings.HasPrefix(out, "plugins.yaml:18: KongPlugin shop/basic (authkit-basic): config.hide_credential: unknown field") {
		t.Errorf("human output:\n%s", out)
	}
}

// TestCheckShippedManifests runs check on the Kubernetes manifests: the
// only acceptable errors are plugins this CLI does not know yet.
func TestCheckShippedManifests(t *testing.T) {
	path := repoFile(t, "deploy/kubernetes/kongplugins.yaml")
	ps, _, _ := checkJSON(t, path)
	for _, p := range ps {
		if _, known := pluginreg.Lookup(p.Plugin); known || p.Field != "plugin" {
			t.Errorf("%s:%d: %s %s: %s", path, p.Line, p.Path, p.Field, p.Message)
		}
	}
}

func TestCheckUsageAndIO(t *testing.T) {
	if _, errOut, code := cli(t, "", "check", filepath.Join(t.TempDir(), "nope.yaml")); code != 1 || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
	if _, _, code := cli(t, "", "check", "a", "b"); code != 2 {
		t.Errorf("two files: exit %d, want 2", code)
	}
	path := writeTemp(t, "kong.yaml", "_format_version: \"3.0\"\nservices: [\n")
	ps, _, code := checkJSON(t, path)
	if code != 1 || len(ps) != 1 || !strings.Contains(ps[0].Message, "not valid YAML") {
		t.Errorf("bad YAML: exit %d %+v", code, ps)
	}
}

const positionsYAML = `# comment
_format_version: "3.0"
services:
- name: echo   # trailing comment
  url: http://echo:8080
  tags: [a, b,
    c]
  routes:
  - name: "quoted: name"
    paths:
    - /one
    - /two
    plugins:
    - name: authkit-basic
      config:
        note: |
          - not: a key
          still: text
        'single''s': 1
        "dq key": 2
        credentials:
          -   username: x
              password_hash: y
          - - nested
            - seq
consumers:
  - username: alice
    plugins: []
`

func TestYAMLPositions(t *testing.T) {
	docs := splitYAMLDocs([]byte(positionsYAML))
	if len(docs) != 1 {
		t.Fatalf("%d docs", len(docs))
	}
	d := docs[0]
	for _, tc := range []struct {
		path []any
		line int
	}{
		{nil, 2},
		{[]any{"_format_version"}, 2},
		{[]any{"services", 0}, 4},
		{[]any{"services", 0, "name"}, 4},
		{[]any{"services", 0, "tags"}, 6},
		{[]any{"services", 0, "tags", 2}, 6}, // inside a flow sequence: its start
		{[]any{"services", 0, "routes"}, 8},
		{[]any{"services", 0, "routes", 0, "paths", 1}, 12},
		{[]any{"services", 0, "routes", 0, "plugins", 0, "config", "note"}, 16},
		{[]any{"services", 0, "routes", 0, "plugins", 0, "config", "single's"}, 19},
		{[]any{"services", 0, "routes", 0, "plugins", 0, "config", "dq key"}, 20},
		{[]any{"services", 0, "routes", 0, "plugins", 0, "config", "credentials", 0, "password_hash"}, 23},
		{[]any{"services", 0, "routes", 0, "plugins", 0, "config", "credentials", 1, 1}, 25},
		{[]any{"services", 0, "routes", 0, "plugins", 0, "config", "missing"}, 15},
		{[]any{"consumers", 0, "plugins"}, 28},
	} {
		if got := d.lineOf(tc.path); got != tc.line {
			t.Errorf("%v: line %d, want %d", tc.path, got, tc.line)
		}
	}
	if k := d.root.keys["services"].items[0].keys["routes"].items[0].keys; k["name"] == nil || k["still"] != nil {
		t.Errorf("keys %v", k)
	}
	multi := splitYAMLDocs([]byte("a: 1\n---\n# only a comment\n---\nb:\n  c: 2\n...\n"))
	if len(multi) != 2 || multi[1].lineOf([]any{"b", "c"}) != 6 {
		t.Errorf("multi-document: %d docs", len(multi))
	}
}

func FuzzYAMLPositions(f *testing.F) {
	f.Add(positionsYAML)
	f.Add(manifest)
	f.Add("- - - a: b\n    c: |\n  x\n- : \n'a: b\n\"\\\": 1")
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Count(s, "\n") + 1
		for _, d := range splitYAMLDocs([]byte(s)) {
			for _, p := range [][]any{nil, {"a"}, {0, "b", 1}, {"services", 0, "routes", 0, "plugins", 0, "config"}} {
				if l := d.lineOf(p); l < 0 || l > lines {
					t.Fatalf("line %d of %d", l, lines)
				}
			}
		}
		_ = checkConfig([]byte(s))
	})
}

// TestCheckWarnsMixedHashCosts (issue 11, item 5): Basic users whose
// hashes differ in scheme or cost can be told from unknown users by
// timing; `authkit check` says so, as a warning (exit 0).
func TestCheckWarnsMixedHashCosts(t *testing.T) {
	doc := `_format_version: "3.0"
routes:
- name: r
  paths: [/b]
  plugins:
  - name: authkit-basic
    config:
      credentials:
      - {username: a, password_hash: "$2a$10$e.yDTILKEkDH/FLXLK2zZuyj8AeiQZn1RF8oImGSgzQlfGlK.ySw.", consumer: alice}
      - {username: b, password_hash: "$2a$04$abcdefghijklmnopqrstuu5XJ0SvHg7pMKXN9oM8pZ3kqVdOa0vC6", consumer: alice}
`
	ps, _, code := checkJSON(t, writeTemp(t, "kong.yaml", doc))
	if code != 0 || len(ps) != 1 || ps[0].Severity != "warning" || ps[0].Line != 8 || ps[0].Field != "config.credentials" ||
		!strings.Contains(ps[0].Message, "bcrypt cost 10") || !strings.Contains(ps[0].Message, "bcrypt cost 4") {
		t.Fatalf("exit %d, problems %+v", code, ps)
	}
}
