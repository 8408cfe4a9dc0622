package kongschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
)

// ValidationError is a config rejected by Kong's schema validation. Each
// entry is one flattened error path, e.g.
// "in 'config': in 'credentials': in entry 2 of 'credentials': in 'username': expected a string".
type ValidationError struct {
	Errors []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Errors, "; ") }

// Normalize validates cfg (as decoded from kong.yaml / JSON) against the
// record f the way Kong's schema does and returns the table Kong would
// JSON-encode into CmdStartInstance (§1.4, §2.1):
//   - every schema field is present; unset scalars/arrays/maps are nil (JSON null);
//   - missing nested records are expanded ({sub: null, ...}); an explicit null
//     for a nested record is "required field missing" (make_records_required);
//   - unknown fields are "unknown field";
//   - type errors use Kong's messages ("expected a string", ...);
//   - strings must be non-empty ("length must be at least 1": Kong's default
//     len_min for strings); integer `between` is enforced;
//   - empty arrays stay [] (cjson.array_mt); integers accept integral floats
//     (YAML/JSON decoders produce float64).
//
// Error paths start with "in 'config': " and name nested fields and 1-based
// array entries like Kong's flattened declarative-config errors.
func (f *Field) Normalize(cfg map[string]any) (map[string]any, error) {
	if f == nil || f.Type != "record" {
		return nil, errors.New("kongschema: Normalize needs a record schema")
	}
	var errs []string
	out := f.normRecord(cfg, func(msg string) { errs = append(errs, "in 'config': "+msg) })
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, &ValidationError{Errors: errs}
	}
	return out, nil
}

type errSink func(string)

func (s errSink) in(prefix string) errSink {
	return func(msg string) { s(prefix + msg) }
}

func (f *Field) normRecord(cfg map[string]any, report errSink) map[string]any {
	out := make(map[string]any, len(f.Fields))
	known := make(map[string]bool, len(f.Fields))
	for _, nf := range f.Fields {
		known[nf.Name] = true
		sub := report.in(fmt.Sprintf("in '%s': ", nf.Name))
		v, present := cfg[nf.Name]
		switch {
		case !present && nf.Field.Type == "record":
			out[nf.Name] = nf.Field.normRecord(nil, sub)
		case !present || v == nil:
			if v == nil && present && nf.Field.Type == "record" {
				sub("required field missing")
				continue
			}
			out[nf.Name] = nil
		default:
			out[nf.Name] = nf.Field.normValue(v, nf.Name, sub)
		}
	}
	for k := range cfg {
		if !known[k] {
			report(fmt.Sprintf("in '%s': unknown field", k))
		}
	}
	return out
}

// normValue validates a non-nil value against f; name is the field name used
// in array/map entry messages.
func (f *Field) normValue(v any, name string, report errSink) any {
	switch f.Type {
	case "string":
		s, ok := v.(string)
		if !ok {
			report("expected a string")
			return nil
		}
		if s == "" {
			report("length must be at least 1")
		}
		return s
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			report("expected a boolean")
			return nil
		}
		return b
	case "integer":
		n, ok := toInteger(v)
		if !ok {
			// Lua integers are doubles: an integral float beyond int64 is
			// still "an integer" to Kong (the plugin may then fail to decode it).
			if x, isF := toFloat(v); isF && x == math.Trunc(x) && math.Abs(x) >= 1<<53 {
				if len(f.Between) == 2 {
					report(fmt.Sprintf("value should be between %d and %d", f.Between[0], f.Between[1]))
				}
				return x
			}
			report("expected an integer")
			return nil
		}
		if len(f.Between) == 2 && (n < int64(f.Between[0]) || n > int64(f.Between[1])) {
			report(fmt.Sprintf("value should be between %d and %d", f.Between[0], f.Between[1]))
		}
		return n
	case "number":
		x, ok := toFloat(v)
		if !ok {
			report("expected a number")
			return nil
		}
		if len(f.Between) == 2 && (x < float64(f.Between[0]) || x > float64(f.Between[1])) {
			report(fmt.Sprintf("value should be between %d and %d", f.Between[0], f.Between[1]))
		}
		return x
	case "array":
		items, ok := toSlice(v)
		if !ok {
			report("expected an array")
			return nil
		}
		out := make([]any, 0, len(items))
		for i, item := range items {
			sub := report.in(fmt.Sprintf("in entry %d of '%s': ", i+1, name))
			if item == nil {
				// A Lua array cannot hold nil; cjson turns null into ngx.null,
				// which fails the element's type check.
				sub("expected " + article(f.Elements.Type))
				continue
			}
			out = append(out, f.Elements.normValue(item, name, sub))
		}
		return out
	case "map":
		m, ok := toMap(v)
		if !ok {
			report("expected a map")
			return nil
		}
		out := make(map[string]any, len(m))
		for k, item := range m {
			sub := report.in(fmt.Sprintf("in entry '%s' of '%s': ", k, name))
			if f.Keys != nil {
				f.Keys.normValue(k, name, sub.in("key: "))
			}
			if item == nil {
				sub("expected " + article(f.Values.Type))
				continue
			}
			out[k] = f.Values.normValue(item, name, sub)
		}
		return out
	case "record":
		m, ok := toMap(v)
		if !ok {
			report("expected a record")
			return nil
		}
		return f.normRecord(m, report)
	default:
		report(fmt.Sprintf("invalid type: %s", f.Type))
		return nil
	}
}

func article(typ string) string {
	switch typ {
	case "integer", "array":
		return "an " + typ
	default:
		return "a " + typ
	}
}

func toInteger(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return toInteger(f)
	case float32:
		return toInteger(float64(n))
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) || n != math.Floor(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	}
	return 0, false
}

// toSlice accepts any Go slice/array; an empty map is an empty Lua table,
// which Kong accepts as an empty array.
func toSlice(v any) ([]any, bool) {
	if s, ok := v.([]any); ok {
		return s, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false // []byte is a string to cjson, not an array
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, true
	case reflect.Map:
		if rv.Len() == 0 {
			return []any{}, true
		}
	}
	return nil, false
}

// toMap accepts any Go map with string keys; an empty slice is an empty Lua
// table, which Kong accepts as an empty map/record.
func toMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[it.Key().String()] = it.Value().Interface()
		}
		return out, true
	case reflect.Slice:
		if rv.Len() == 0 && rv.Type().Elem().Kind() != reflect.Uint8 {
			return map[string]any{}, true
		}
	}
	return nil, false
}
