package kongwire

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// The Kong schema model lives in pkg/kongschema, shared with `authkit
// check`; these aliases keep kongwire's API.
type (
	// Field is one field definition of the Kong schema (kongschema.Field).
	Field = kongschema.Field
	// NamedField is one entry of a record's fields list.
	NamedField = kongschema.NamedField
	// ValidationError is a config rejected by Kong's schema validation.
	ValidationError = kongschema.ValidationError
)

// ConfigSchema returns the `config` record of Plugins[0].Schema
// ({"name":..,"fields":[{"config":{"type":"record",...}}]}, §1.4).
func (i *Info) ConfigSchema() (*Field, error) {
	if len(i.Plugins) == 0 {
		return nil, errors.New("kongwire: dump has no plugins")
	}
	return kongschema.Parse(i.Plugins[0].Schema)
}

var snakeCaseRE = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// CheckSchema fails the test if the dumped config schema contains something
// Kong would mangle or reject (kong-go-plugins.md §1.4): a field name with a
// ',' (json tag options such as ",omitempty" are not stripped by go-pdk), a
// field named "-" (json:"-" is not honoured), or a name that is not
// snake_case. Every name in want (top-level config fields, or dotted paths
// into nested records such as "inner.username") must be present, which
// catches fields go-pdk silently drops (int64, int8/16, uint8/16/64, []byte,
// interface{}, time.Duration, ...). Use JSONTags to build want from the
// Config struct.
func CheckSchema(t testing.TB, info *Info, want []string) {
	t.Helper()
	cfg, err := info.ConfigSchema()
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	var walk func(f *Field, path string)
	walk = func(f *Field, path string) {
		if f == nil {
			return
		}
		for _, nf := range f.Fields {
			p := nf.Name
			if path != "" {
				p = path + "." + nf.Name
			}
			switch {
			case strings.Contains(nf.Name, ","):
				t.Errorf("kongwire: schema field %q contains ',': go-pdk does not strip json tag options; Kong expects the literal name", p)
			case nf.Name == "-":
				t.Errorf("kongwire: schema field %q is named \"-\": go-pdk ignores json:\"-\" and exposes the field", p)
			case !snakeCaseRE.MatchString(nf.Name):
				t.Errorf("kongwire: schema field %q is not snake_case", p)
			}
			walk(nf.Field, p)
		}
		walk(f.Elements, path+"[]")
		walk(f.Values, path+"{}")
	}
	walk(cfg, "")
	for _, w := range want {
		if cfg.Lookup(strings.Split(w, ".")...) == nil {
			t.Errorf("kongwire: config field %q is missing from the -dump schema: go-pdk silently drops unsupported Go types (int64, time.Duration, interface{}, ...), and Kong will reject it as an unknown field", w)
		}
	}
}

// JSONTags returns the names encoding/json uses for the exported fields of
// the struct v (or *struct): the json tag name without options, or the
// lower-cased Go field name when untagged (go-pdk's naming rule, which
// encoding/json matches case-insensitively). Fields tagged "-" are skipped,
// and untagged embedded structs are flattened as encoding/json does — go-pdk
// instead emits them as one nested record, so CheckSchema reports them.
func JSONTags(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, JSONTags(reflect.New(ft).Interface())...)
				continue
			}
		}
		if !sf.IsExported() || tag == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out = append(out, name)
	}
	return out
}
