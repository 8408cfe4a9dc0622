package kongschema

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// A config field declares its Kong attributes in struct tags, next to its
// type, json name and doc comment: its one home, read by Generate (Kong's
// schema: -dump, schema.lua), Check (the plugin's compile), `authkit
// check` and the README's tables.
//
//	ScopeMatch *string  `json:"scope_match" default:"all" one_of:"all,any"`
//	Leeway     *int     `json:"leeway_seconds" default:"30" between:"0,86400"`
//	Secret     string   `json:"introspection_client_secret" len_min:"0" referenceable:"true"`
//	Username   string   `json:"username" required:"true" match_none:"[:%c]" match_err:"no colon or control character"`
//	KeyNames   []string `json:"key_names" default:"apikey" len_min:"1" elem_match_none:"%c"`
//
// Tags: default (see defaults.go), required, referenceable, one_of
// (comma-separated), between (lo,hi), gt, len_eq, len_min, len_max,
// match_all / match_none (one Lua pattern) or match_any (patterns
// separated by |) with match_err, and the same
// with the prefix elem_ (an array's elements), key_ or value_ (a map's).
// What a tag cannot say (several patterns, entity checks) a struct adds in
// a KongSchema method, which Generate calls with the struct's record.

// Schemer is implemented by a config struct that adds to its generated
// record what tags cannot say: entity checks, computed patterns.
type Schemer interface {
	KongSchema(record *Field)
}

// MaxInt is the bound of a non-negative integer field ("between 0 and
// MaxInt"): Kong's between needs two bounds, and a value this large is
// never meant (it also keeps durations from overflowing).
const MaxInt = 2147483647

var generated sync.Map // reflect.Type → *Field | error

// Generate returns the Kong schema (the config record) of the config type
// of v (a struct or a pointer to one): go-pdk's types and names
// (FromStruct) with the attributes the fields' tags declare and the
// entity checks of KongSchema. The result is shared: do not modify it.
func Generate(v any) (*Field, error) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("kongschema: Generate needs a struct, got %T", v)
	}
	if c, ok := generated.Load(t); ok {
		if err, isErr := c.(error); isErr {
			return nil, err
		}
		return c.(*Field), nil
	}
	f, err := generateType(t)
	if err == nil && f == nil {
		err = fmt.Errorf("kongschema: %s has no Kong schema", t)
	}
	if err != nil {
		generated.Store(t, err)
		return nil, err
	}
	generated.Store(t, f)
	return f, nil
}

// MustGenerate is Generate for types known to be valid (the plugins'
// configs, checked by their tests); it panics on an error.
func MustGenerate(v any) *Field {
	f, err := Generate(v)
	if err != nil {
		panic(err)
	}
	return f
}

// generateType is fromType with each struct field's tag attributes.
func generateType(t reflect.Type) (*Field, error) {
	switch t.Kind() {
	case reflect.Pointer:
		return generateType(t.Elem())
	case reflect.Slice:
		elem, err := generateType(t.Elem())
		if err != nil || elem == nil {
			return nil, err
		}
		return &Field{Type: "array", Elements: elem}, nil
	case reflect.Map:
		k, err := generateType(t.Key())
		if err != nil {
			return nil, err
		}
		v, err := generateType(t.Elem())
		if err != nil || k == nil || v == nil {
			return nil, err
		}
		return &Field{Type: "map", Keys: k, Values: v}, nil
	case reflect.Struct:
		rec := &Field{Type: "record"}
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if sf.PkgPath != "" {
				continue
			}
			sub, err := generateType(sf.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sf.Name, err)
			}
			if sub == nil {
				continue
			}
			if err := applyTags(sub, sf); err != nil {
				return nil, fmt.Errorf("kongschema: %s.%s: %w", t.Name(), sf.Name, err)
			}
			name := sf.Tag.Get("json")
			if name == "" {
				name = strings.ToLower(sf.Name)
			}
			rec.Fields = append(rec.Fields, NamedField{Name: name, Field: sub})
		}
		if s, ok := reflect.New(t).Interface().(Schemer); ok {
			s.KongSchema(rec)
		}
		if err := checkIfFields(rec); err != nil {
			return nil, fmt.Errorf("kongschema: %s: %w", t.Name(), err)
		}
		return rec, nil
	}
	return fromType(t), nil
}

// applyTags sets f's attributes (and its elements', keys' and values')
// from sf's tags. sub is a fresh Field for this struct field only.
func applyTags(f *Field, sf reflect.StructField) error {
	d, ok, err := Default(sf)
	if err != nil {
		return err
	}
	if ok {
		f.Default, f.HasDefault = jsonValue(d), true
	}
	if err := attrs(f, sf.Tag, ""); err != nil {
		return err
	}
	for prefix, sub := range map[string]*Field{"elem_": f.Elements, "key_": f.Keys, "value_": f.Values} {
		if sub == nil {
			continue
		}
		cp := *sub
		if err := attrs(&cp, sf.Tag, prefix); err != nil {
			return err
		}
		switch prefix {
		case "elem_":
			f.Elements = &cp
		case "key_":
			f.Keys = &cp
		case "value_":
			f.Values = &cp
		}
	}
	return nil
}

// attrs reads the attribute tags with prefix into f.
func attrs(f *Field, tag reflect.StructTag, prefix string) error {
	get := func(k string) (string, bool) { return tag.Lookup(prefix + k) }
	var err error
	flag := func(k string, dst *bool) {
		if v, ok := get(k); ok && err == nil {
			*dst, err = strconv.ParseBool(v)
		}
	}
	num := func(k string) *int {
		v, ok := get(k)
		if !ok || err != nil {
			return nil
		}
		var n int
		n, err = strconv.Atoi(v)
		return &n
	}
	flag("required", &f.Required)
	flag("referenceable", &f.Referenceable)
	if v, ok := get("one_of"); ok {
		for _, s := range strings.Split(v, ",") {
			f.OneOf = append(f.OneOf, s)
		}
	}
	if v, ok := get("between"); ok {
		lo, hi, found := strings.Cut(v, ",")
		a, e1 := strconv.Atoi(lo)
		b, e2 := strconv.Atoi(hi)
		if !found || e1 != nil || e2 != nil || a > b {
			return fmt.Errorf("between %q is not lo,hi", v)
		}
		f.Between = []int{a, b}
	}
	if v, ok := get("gt"); ok {
		x, e := strconv.ParseFloat(v, 64)
		if e != nil {
			return fmt.Errorf("gt %q: %w", v, e)
		}
		f.Gt = &x
	}
	f.LenEq, f.LenMin, f.LenMax = or(num("len_eq"), f.LenEq), or(num("len_min"), f.LenMin), or(num("len_max"), f.LenMax)
	if err != nil {
		return err
	}
	msg, _ := get("match_err")
	if p, ok := get("match_none"); ok {
		f.MatchNone = append(f.MatchNone, MatchRule{Pattern: p, Err: msg})
	}
	if p, ok := get("match_all"); ok {
		f.MatchAll = append(f.MatchAll, MatchRule{Pattern: p, Err: msg})
	}
	if p, ok := get("match_any"); ok {
		f.MatchAny = &MatchAny{Patterns: strings.Split(p, "|"), Err: msg}
	}
	var patterns []string
	for _, rules := range [][]MatchRule{f.MatchAll, f.MatchNone} {
		for _, r := range rules {
			patterns = append(patterns, r.Pattern)
		}
	}
	if f.MatchAny != nil {
		patterns = append(patterns, f.MatchAny.Patterns...)
	}
	for _, p := range patterns {
		if _, err := LuaPattern(p); err != nil {
			return err
		}
	}
	if f.OneOf != nil && f.Type == "integer" {
		for i, s := range f.OneOf {
			n, e := strconv.Atoi(s.(string))
			if e != nil {
				return fmt.Errorf("one_of %q: %w", s, e)
			}
			f.OneOf[i] = n
		}
	}
	return nil
}

// checkIfFields insists that a conditional's if_field is required and has
// a default: Kong runs the check on a null value as if it matched
// (Schema.validate_field passes null), while the plugin reads null as the
// default; required makes Kong refuse null instead.
func checkIfFields(rec *Field) error {
	for _, c := range rec.EntityChecks {
		var name string
		switch {
		case c.Conditional != nil:
			name = c.Conditional.IfField
		case c.ConditionalAtLeastOneOf != nil:
			name = c.ConditionalAtLeastOneOf.IfField
		default:
			continue
		}
		f := rec.Lookup(splitName(name)...)
		if f == nil {
			return fmt.Errorf("entity check on unknown field %q", name)
		}
		if !f.Required || !f.HasDefault {
			return fmt.Errorf("%s: the if_field of an entity check needs required:\"true\" and a default", name)
		}
	}
	for _, c := range rec.EntityChecks {
		for _, name := range c.fields() {
			if rec.Lookup(splitName(name)...) == nil {
				return fmt.Errorf("entity check on unknown field %q", name)
			}
		}
	}
	return nil
}

func or(a, b *int) *int {
	if a != nil {
		return a
	}
	return b
}

// jsonValue is a default as the JSON Kong reads: slices and maps of plain
// values.
func jsonValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonValue(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = jsonValue(it.Value())
		}
		return out
	case reflect.Int, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	}
	return v.Interface()
}

// Ptr returns a pointer to n (for the LenMin-style attributes).
func Ptr[T any](n T) *T { return &n }
