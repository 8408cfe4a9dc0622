package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

func runSchema(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"schema"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestSchemaCommand(t *testing.T) {
	out, _, code := runSchema(t, "authkit-oauth")
	var s struct {
		Name   string
		Fields []map[string]json.RawMessage
	}
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Name != "authkit-oauth" || len(s.Fields) != 1 ||
		!strings.Contains(string(s.Fields[0]["config"]), `"referenceable": true`) {
		t.Fatalf("schema authkit-oauth: exit %d\n%.400s", code, out)
	}

	out, _, code = runSchema(t, "--lua", "authkit-basic")
	if code != 0 || !strings.Contains(out, "return {\n  name = \"authkit-basic\",") || !strings.Contains(out, "at_least_one_of = { \"credentials\", \"credentials_file\" }") {
		t.Fatalf("schema --lua authkit-basic: exit %d\n%.400s", code, out)
	}

	dir := t.TempDir()
	if _, errOut, code := runSchema(t, "--lua", "--dir", dir); code != 0 {
		t.Fatalf("--dir: exit %d: %s", code, errOut)
	}
	for _, n := range pluginreg.Names() {
		p, _ := pluginreg.Lookup(n)
		h, err := os.ReadFile(filepath.Join(dir, "kong", "plugins", n, "handler.lua"))
		if err != nil || !strings.Contains(string(h), "VERSION = \""+p.Version+"\"") {
			t.Errorf("%s: handler.lua %v\n%s", n, err, h)
		}
		lua, err := os.ReadFile(filepath.Join(dir, "kong", "plugins", n, "schema.lua"))
		want, _, _ := runSchema(t, "--lua", n)
		if err != nil || string(lua) != want {
			t.Errorf("%s: schema.lua under --dir differs from --lua's (%v)", n, err)
		}
	}

	for _, args := range [][]string{{}, {"authkit-nope"}, {"--dir", dir}, {"--lua", "--dir", dir, "authkit-oauth"}} {
		if _, _, code := runSchema(t, args...); code != 2 {
			t.Errorf("schema %v: exit %d, want 2", args, code)
		}
	}
}
