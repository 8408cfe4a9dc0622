package kongschema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema/internal/quirks"
	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

func names(f *kongschema.Field) []string {
	var out []string
	for _, nf := range f.Fields {
		out = append(out, nf.Name)
	}
	return out
}

// TestFromStructRules spells out getSchemaDict's rules (kong-go-plugins.md
// §1.4) on the quirks struct.
func TestFromStructRules(t *testing.T) {
	f := kongschema.FromStruct(&quirks.Config{})
	want := []string{"embedded", "message", "enabled", "count", "small", "limit", "size", "ratio", "ratio32",
		"tags", "ptr_tags", "labels", "weights", "inner", "inner_ptr", "credentials", "omit,omitempty", "-",
		"notag", "apiendpoint", "when"}
	if got := names(f); !slices.Equal(got, want) {
		t.Fatalf("fields\n got %q\nwant %q", got, want)
	}
	for path, typ := range map[string]string{
		"embedded.flat": "string", "enabled": "boolean", "small": "integer", "ratio32": "number",
		"inner_ptr.username": "string", "inner.strict": "boolean", "when": "record",
	} {
		if got := f.Lookup(splitDots(path)...); got == nil || got.Type != typ {
			t.Errorf("%s: %+v, want %s", path, got, typ)
		}
	}
	if l := f.Lookup("limit"); !slices.Equal(l.Between, []int{0, 2147483648}) {
		t.Errorf("uint32 bounds %v", l.Between)
	}
	if c := f.Lookup("count"); c.Between != nil {
		t.Errorf("int has bounds %v", c.Between)
	}
	if p := f.Lookup("ptr_tags"); p.Type != "array" || p.Elements.Type != "string" {
		t.Errorf("*[]*string: %+v", p)
	}
	if w := f.Lookup("weights"); w.Type != "map" || w.Keys.Type != "string" || w.Values.Type != "array" || w.Values.Elements.Type != "integer" {
		t.Errorf("map[string][]int: %+v", w)
	}
	if c := f.Lookup("credentials"); c.Type != "array" || c.Elements.Type != "record" || !slices.Equal(names(c.Elements), []string{"username", "strict"}) {
		t.Errorf("[]Inner: %+v", c)
	}
	if f := kongschema.FromStruct(quirks.Config{}); !reflect.DeepEqual(f, kongschema.FromStruct(&quirks.Config{})) {
		t.Error("a struct and a pointer to it differ")
	}
	for _, v := range []any{nil, int64(1), []byte("x"), new(any)} {
		if f := kongschema.FromStruct(v); f != nil {
			t.Errorf("FromStruct(%T) = %+v, want nil", v, f)
		}
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// dumped builds a plugin binary and returns its -dump config schema.
func dumped(t *testing.T, bin string) *kongschema.Field {
	t.Helper()
	info := kongwire.Dump(t, bin)
	f, err := kongschema.Parse(info.Plugins[0].Schema)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sameSchema fails unless got (FromStruct) is exactly want (the dump), as
// values and as the JSON Kong reads.
func sameSchema(t *testing.T, got, want *kongschema.Field) {
	t.Helper()
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if !reflect.DeepEqual(got, want) || string(gj) != string(wj) {
		t.Errorf("FromStruct differs from the -dump schema\nFromStruct: %s\n-dump:      %s", gj, wj)
	}
}

// TestFromStructMatchesGoPDK runs the real go-pdk getSchemaDict (through a
// test plugin's -dump) on the quirks struct.
func TestFromStructMatchesGoPDK(t *testing.T) {
	bin := kongwire.BuildDir(t, "testdata/plugins/kongschema-quirks", "kongschema-quirks")
	sameSchema(t, kongschema.FromStruct(&quirks.Config{}), dumped(t, bin))
}

// TestPluginSchemasMatchDump is the guarantee behind `authkit check` and
// `authkit schema --lua`: for every plugin binary under plugins/ and every
// plugin pluginreg knows, the schema the CLI derives offline from
// pluginreg's New() (Generate) is exactly the one the binary gives Kong,
// and its names and types are go-pdk's (FromStruct). A plugin directory
// missing from pluginreg (or the reverse) fails too: the CLI could not
// check it.
func TestPluginSchemasMatchDump(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(kongwire.ModuleRoot(t), "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	dirs := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			all[e.Name()], dirs[e.Name()] = true, true
		}
	}
	for _, n := range pluginreg.Names() {
		all[n] = true
	}
	if len(all) == 0 {
		t.Fatal("no plugins")
	}
	for name := range all {
		t.Run(name, func(t *testing.T) {
			p, ok := pluginreg.Lookup(name)
			if !ok {
				t.Fatalf("plugins/%s is not registered in pkg/pluginreg: `authkit check` cannot validate its config", name)
			}
			if !dirs[name] {
				t.Fatalf("pkg/pluginreg registers %s but there is no plugins/%s to build", name, name)
			}
			dump := dumped(t, kongwire.Build(t, name))
			sameSchema(t, kongschema.MustGenerate(p.New()), dump)
			sameSchema(t, kongschema.FromStruct(p.New()), goPDKOnly(dump))
		})
	}
}

// goPDKOnly is f with only what go-pdk's generator emits: types, names,
// and the bounds of unsigned integers.
func goPDKOnly(f *kongschema.Field) *kongschema.Field {
	if f == nil {
		return nil
	}
	out := &kongschema.Field{Type: f.Type, Elements: goPDKOnly(f.Elements), Keys: goPDKOnly(f.Keys), Values: goPDKOnly(f.Values)}
	if f.Type == "integer" && len(f.Between) == 2 && f.Between[0] == 0 && f.Between[1] == 2147483648 {
		out.Between = f.Between
	}
	for _, nf := range f.Fields {
		out.Fields = append(out.Fields, kongschema.NamedField{Name: nf.Name, Field: goPDKOnly(nf.Field)})
	}
	return out
}
