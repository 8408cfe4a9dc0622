package kongschema

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// A config field's default is declared once, in its `default` struct tag,
// and everything reads it from there: the plugin's compile
// (ApplyDefaults), the README's config tables (internal/configdoc) and
// Kong's schema. The tag holds a literal of the field's type:
//
//	Realm           *string  `json:"realm" default:"service"`
//	CacheTTLSeconds *int     `json:"cache_ttl_seconds" default:"300"`
//	RunOnPreflight  *bool    `json:"run_on_preflight" default:"true"`
//	KeyNames        []string `json:"key_names" default:"apikey"`   // a comma-separated list
//	Credentials     []Cred   `json:"credentials" default:""`        // "" is the empty list (or map)
//
// A field without the tag has no static default: unset is its own value,
// or the plugin computes one (its doc comment says which).

// DefaultTag is the struct tag holding a field's default.
const DefaultTag = "default"

// Default returns the default the field sf declares (a value of its type,
// pointers dereferenced), and whether it declares one.
func Default(sf reflect.StructField) (reflect.Value, bool, error) {
	lit, ok := sf.Tag.Lookup(DefaultTag)
	if !ok {
		return reflect.Value{}, false, nil
	}
	t := sf.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	v, err := parseLiteral(t, lit)
	if err != nil {
		return reflect.Value{}, true, fmt.Errorf("kongschema: %s: default %q: %w", sf.Name, lit, err)
	}
	return v, true, nil
}

func parseLiteral(t reflect.Type, lit string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		v.SetString(lit)
	case reflect.Bool:
		b, err := strconv.ParseBool(lit)
		if err != nil {
			return v, err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(lit, 10, t.Bits())
		if err != nil {
			return v, err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(lit, 10, t.Bits())
		if err != nil {
			return v, err
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(lit, t.Bits())
		if err != nil {
			return v, err
		}
		v.SetFloat(f)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 0, 0))
		if lit == "" {
			return v, nil
		}
		for _, part := range strings.Split(lit, ",") {
			e, err := parseLiteral(t.Elem(), part)
			if err != nil {
				return v, err
			}
			v.Set(reflect.Append(v, e))
		}
	case reflect.Map:
		if lit != "" {
			return v, fmt.Errorf("a map's default can only be empty")
		}
		v.Set(reflect.MakeMap(t))
	default:
		return v, fmt.Errorf("no default literal for %s", t)
	}
	return v, nil
}

// defaults caches each struct type's defaulted fields.
var defaults sync.Map // reflect.Type → []fieldDefault | error

type fieldDefault struct {
	index int
	value reflect.Value
}

func defaultsOf(t reflect.Type) ([]fieldDefault, error) {
	if v, ok := defaults.Load(t); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.([]fieldDefault), nil
	}
	var out []fieldDefault
	var err error
	for i := 0; i < t.NumField(); i++ {
		d, ok, e := Default(t.Field(i))
		if e != nil {
			err = e
			break
		}
		if ok {
			out = append(out, fieldDefault{i, d})
		}
	}
	if err != nil {
		defaults.Store(t, err)
		return nil, err
	}
	defaults.Store(t, out)
	return out, nil
}

// ApplyDefaults sets every unset field of the struct cfg points to that
// declares a default: a nil pointer, slice or map, or a zero value, as
// Kong does for a field the config does not name. It descends into
// nested structs and slices of them. Nothing already set is written
// through: a slice, map or pointer the struct holds is replaced, never
// modified, so a shallow copy of a shared config can be defaulted safely.
func ApplyDefaults(cfg any) error {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("kongschema: ApplyDefaults needs a pointer to a struct, got %T", cfg)
	}
	return applyDefaults(rv.Elem())
}

func applyDefaults(v reflect.Value) error {
	fds, err := defaultsOf(v.Type())
	if err != nil {
		return err
	}
	for _, fd := range fds {
		f := v.Field(fd.index)
		switch f.Kind() {
		case reflect.Pointer:
			if f.IsNil() {
				p := reflect.New(f.Type().Elem())
				p.Elem().Set(clone(fd.value))
				f.Set(p)
			}
		case reflect.Slice, reflect.Map:
			if f.IsNil() {
				f.Set(clone(fd.value))
			}
		default:
			if f.IsZero() {
				f.Set(fd.value)
			}
		}
	}
	for i := 0; i < v.NumField(); i++ {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if err := descend(v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// descend defaults nested records: a struct in place (it is the
// config's own copy), a pointed-to struct or the elements of a slice on a
// copy that replaces the original (they may be shared).
func descend(f reflect.Value) error {
	switch f.Kind() {
	case reflect.Struct:
		return applyDefaults(f)
	case reflect.Pointer:
		if !f.IsNil() && f.Elem().Kind() == reflect.Struct {
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(f.Elem())
			if err := applyDefaults(p.Elem()); err != nil {
				return err
			}
			f.Set(p)
		}
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.Struct || f.Len() == 0 {
			return nil
		}
		c := clone(f)
		for i := 0; i < c.Len(); i++ {
			if err := applyDefaults(c.Index(i)); err != nil {
				return err
			}
		}
		f.Set(c)
	}
	return nil
}

// clone copies a default slice or map, so that no two configs share one.
func clone(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		return c
	case reflect.Map:
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			c.SetMapIndex(it.Key(), it.Value())
		}
		return c
	}
	return v
}

// Defaults returns the declared default of each top-level field of the
// config struct v (or *struct), by kong.yaml name, as a value of the
// field's type with pointers dereferenced. Tests use it to prove that the
// documented default is the one a compiled config applies.
func Defaults(v any) (map[string]any, error) {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		d, ok, err := Default(sf)
		if err != nil {
			return nil, err
		}
		if ok {
			out[sf.Tag.Get("json")] = d.Interface()
		}
	}
	return out, nil
}

// WithDefaults is a copy of *cfg with ApplyDefaults applied: what a
// plugin's Compile works on, leaving the instance's config as Kong sent it.
func WithDefaults[T any](cfg *T) (*T, error) {
	cp := *cfg
	if err := ApplyDefaults(&cp); err != nil {
		return nil, err
	}
	return &cp, nil
}
