package kongschema

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one reason Kong's schema refuses a config.
type FieldError struct {
	// Path leads from the config record to the field: names, and 0-based
	// indexes into arrays. A map's errors sit on the map (Kong reports
	// one, for its first bad entry).
	Path []any
	// Entity marks an entity check's error, of the record at Path.
	Entity  bool
	Message string
}

// Dotted is the path as the plugins write it: credentials[0].username
// ("" for the config record itself).
func (e FieldError) Dotted() string {
	var b strings.Builder
	for _, p := range e.Path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}

// Flat is the field Kong names in POST /config's flattened_errors:
// config.credentials.1.username (1-based); "" for an entity error, which
// Kong reports without a field.
func (e FieldError) Flat() string {
	if e.Entity {
		return ""
	}
	parts := []string{"config"}
	for _, p := range e.Path {
		if i, ok := p.(int); ok {
			parts = append(parts, strconv.Itoa(i+1))
		} else {
			parts = append(parts, fmt.Sprint(p))
		}
	}
	return strings.Join(parts, ".")
}

// Nested is the error as `kong start` prints it, on one line:
// in 'config': in 'credentials': in entry 1 of 'credentials': in 'username': required field missing.
func (e FieldError) Nested() string {
	var b strings.Builder
	b.WriteString("in 'config': ")
	var last string
	for _, p := range e.Path {
		if i, ok := p.(int); ok {
			fmt.Fprintf(&b, "in entry %d of '%s': ", i+1, last)
			continue
		}
		last = fmt.Sprint(p)
		fmt.Fprintf(&b, "in '%s': ", last)
	}
	if e.Entity {
		b.WriteString("in '@entity': ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Line is the error as a plugin's compile reports it: "path: message".
func (e FieldError) Line() string {
	if p := e.Dotted(); p != "" {
		return p + ": " + e.Message
	}
	return e.Message
}

// ValidationError is a config rejected by Kong's schema validation.
type ValidationError struct {
	// Fields are the errors, in a stable order: field errors, then
	// entity errors, each sorted by Nested.
	Fields []FieldError
	// Errors are the Fields as Nested strings.
	Errors []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Errors, "; ") }

// Lines are the errors as the plugins' compile reports them.
func (e *ValidationError) Lines() []string {
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Line()
	}
	return out
}

type validator struct {
	errs []FieldError
}

func (v *validator) fail(path []any, msg string) {
	v.errs = append(v.errs, FieldError{Path: append([]any(nil), path...), Message: msg})
}

func (v *validator) failEntity(path []any, msg string) {
	v.errs = append(v.errs, FieldError{Path: append([]any(nil), path...), Entity: true, Message: msg})
}

// Normalize validates cfg (as decoded from kong.yaml / JSON) against the
// config record f the way Kong 3.9's schema does, and returns the table
// Kong JSON-encodes into CmdStartInstance (kong-go-plugins.md §1.4, §2.1):
//
//   - a field the config does not name gets its default, else null; a
//     missing nested record is expanded (Kong makes every record required);
//     a field named with null stays null (no default), except a record or
//     a required field: "required field missing";
//   - unknown fields are "unknown field"; type errors use Kong's messages;
//   - then Kong's validators in Kong's order, the first failing one giving
//     the field's error: one_of, gt, between, len_eq, len_min (a string
//     without one has len_min 1), len_max, match_none, match_all,
//     match_any; a "{vault://…}" value of a referenceable string is not
//     validated (Kong resolves it later);
//   - an array's elements are validated first (each its own error, null
//     is "required field missing"), its own validators only if they all
//     pass; a map gets one error, its first bad entry's (keys sorted);
//   - then each record's entity checks: at_least_one_of, mutually_required,
//     mutually_exclusive, conditional, conditional_at_least_one_of;
//   - integers accept integral floats (YAML/JSON decoders produce
//     float64); empty arrays stay [] (cjson.array_mt).
func (f *Field) Normalize(cfg map[string]any) (map[string]any, error) {
	if f == nil || f.Type != "record" {
		return nil, fmt.Errorf("kongschema: Normalize needs a record schema")
	}
	var v validator
	out := v.record(f, cfg, nil)
	if len(v.errs) > 0 {
		// Field errors first, then the rules across fields, each sorted.
		sort.SliceStable(v.errs, func(i, j int) bool {
			if a, b := v.errs[i].Entity, v.errs[j].Entity; a != b {
				return b
			}
			return v.errs[i].Nested() < v.errs[j].Nested()
		})
		ve := &ValidationError{Fields: v.errs}
		for _, e := range v.errs {
			ve.Errors = append(ve.Errors, e.Nested())
		}
		return nil, ve
	}
	return out, nil
}

// record processes a record's fields (defaults, nulls, validation), then
// its entity checks.
func (v *validator) record(f *Field, cfg map[string]any, path []any) map[string]any {
	start := len(v.errs)
	out := make(map[string]any, len(f.Fields))
	known := make(map[string]bool, len(f.Fields))
	for _, nf := range f.Fields {
		known[nf.Name] = true
		sub := append(path[:len(path):len(path)], nf.Name)
		val, present := cfg[nf.Name]
		switch {
		case !present && nf.Field.HasDefault && nf.Field.Default == nil:
			out[nf.Name] = nil
		case !present && nf.Field.HasDefault:
			out[nf.Name] = v.value(nf.Field, deepCopy(nf.Field.Default, nf.Field.Type), sub)
		case !present && nf.Field.Type == "record":
			out[nf.Name] = v.record(nf.Field, nil, sub)
		case !present && nf.Field.Required:
			v.fail(sub, "required field missing")
		case !present:
			out[nf.Name] = nil
		case val == nil && (nf.Field.Required || nf.Field.Type == "record"):
			// Present and null: an entity check sees null, not "missing".
			out[nf.Name] = nil
			v.fail(sub, "required field missing")
		case val == nil:
			out[nf.Name] = nil
		default:
			out[nf.Name] = v.value(nf.Field, val, sub)
		}
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.fail(append(path[:len(path):len(path)], k), "unknown field")
	}
	for _, c := range f.EntityChecks {
		v.entityCheck(f, c, out, path, start)
	}
	return out
}

// value checks a non-null value against f and returns it as Kong keeps it.
func (v *validator) value(f *Field, val any, path []any) any {
	out, msg, ok := v.typed(f, val, path)
	if !ok {
		if msg != "" {
			v.fail(path, msg)
		}
		return out
	}
	if msg := validators(f, out); msg != "" {
		v.fail(path, msg)
	}
	return out
}

// typed checks val's type (and the elements of an array, the entries of a
// map, the fields of a record). It returns the value as Kong keeps it,
// and ok false when the field's validators must not run: msg is then the
// field's error ("" when the errors are already recorded below it).
func (v *validator) typed(f *Field, val any, path []any) (out any, msg string, ok bool) {
	switch f.Type {
	case "string":
		s, isStr := val.(string)
		if !isStr {
			return nil, "expected a string", false
		}
		if f.Referenceable && IsReference(s) {
			return s, "", false
		}
		return s, "", true
	case "boolean":
		b, isBool := val.(bool)
		if !isBool {
			return nil, "expected a boolean", false
		}
		return b, "", true
	case "integer":
		if n, isInt := toInteger(val); isInt {
			return n, "", true
		}
		// Lua integers are doubles: an integral float beyond int64 is
		// still "an integer" to Kong (the plugin may then fail to decode it).
		if x, isF := toFloat(val); isF && x == math.Trunc(x) && math.Abs(x) >= 1<<53 {
			return x, "", true
		}
		return nil, "expected an integer", false
	case "number":
		x, isF := toFloat(val)
		if !isF {
			return nil, "expected a number", false
		}
		return x, "", true
	case "array":
		items, isArr := toSlice(val)
		if !isArr {
			return nil, "expected an array", false
		}
		arr := make([]any, 0, len(items))
		before := len(v.errs)
		for i, item := range items {
			sub := append(path[:len(path):len(path)], i)
			if item == nil {
				v.fail(sub, "required field missing")
				continue
			}
			arr = append(arr, v.value(f.Elements, item, sub))
		}
		return arr, "", len(v.errs) == before
	case "map":
		m, isMap := toMap(val)
		if !isMap {
			return nil, "expected a map", false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(m))
		for _, k := range keys {
			if f.Keys != nil {
				if msg := check(f.Keys, k); msg != "" {
					return nil, msg, false
				}
			}
			item := m[k]
			if item == nil {
				return nil, "required field missing", false
			}
			if msg := check(f.Values, item); msg != "" {
				return nil, msg, false
			}
			out[k] = normalizedScalar(f.Values, item)
		}
		return out, "", true
	case "record":
		m, isMap := toMap(val)
		if !isMap {
			return nil, "expected a record", false
		}
		return v.record(f, m, path), "", false
	}
	return nil, "invalid type: " + f.Type, false
}

// check is Kong's validate_field for one value, as a map's keys and values
// and an entity check's match use it: the first error, or "".
func check(f *Field, val any) string {
	if val == nil {
		if f.Required {
			return "required field missing"
		}
		return ""
	}
	var v validator
	out, msg, ok := v.typed(f, val, nil)
	switch {
	case msg != "":
		return msg
	case len(v.errs) > 0:
		return v.errs[0].Message
	case !ok:
		return ""
	}
	return validators(f, out)
}

func normalizedScalar(f *Field, val any) any {
	var v validator
	out, _, _ := v.typed(f, val, nil)
	return out
}

// validators runs Kong's validators on a typed value in Kong's order
// (Schema.validators_order) and returns the first error.
func validators(f *Field, val any) string {
	if f.OneOf != nil {
		found := false
		for _, o := range f.OneOf {
			if equalJSON(o, val) {
				found = true
				break
			}
		}
		if !found {
			list := make([]string, len(f.OneOf))
			for i, o := range f.OneOf {
				list[i] = fmt.Sprint(o)
			}
			return "expected one of: " + strings.Join(list, ", ")
		}
	}
	if x, isNum := toFloat(val); isNum && (f.Type == "integer" || f.Type == "number") {
		if f.Gt != nil && !(x > *f.Gt) {
			return "value must be greater than " + luaNumber(*f.Gt)
		}
		if len(f.Between) == 2 && (x < float64(f.Between[0]) || x > float64(f.Between[1])) {
			return fmt.Sprintf("value should be between %d and %d", f.Between[0], f.Between[1])
		}
	}
	n := -1
	switch val := val.(type) {
	case string:
		n = len(val)
	case []any:
		n = len(val)
	case map[string]any:
		n = len(val)
	}
	if n >= 0 {
		lenMin := f.LenMin
		if lenMin == nil && f.Type == "string" {
			one := 1
			lenMin = &one
		}
		switch {
		case f.LenEq != nil && n != *f.LenEq:
			return fmt.Sprintf("length must be %d", *f.LenEq)
		case lenMin != nil && n < *lenMin:
			return fmt.Sprintf("length must be at least %d", *lenMin)
		case f.LenMax != nil && n > *f.LenMax:
			return fmt.Sprintf("length must be at most %d", *f.LenMax)
		}
	}
	if s, isStr := val.(string); isStr {
		for _, r := range f.MatchNone {
			if ok, _ := luaMatch(r.Pattern, s); ok {
				return r.Err
			}
		}
		for _, r := range f.MatchAll {
			if ok, _ := luaMatch(r.Pattern, s); !ok {
				return r.Err
			}
		}
		if f.MatchAny != nil {
			matched := false
			for _, p := range f.MatchAny.Patterns {
				if ok, _ := luaMatch(p, s); ok {
					matched = true
					break
				}
			}
			if !matched {
				return f.MatchAny.Err
			}
		}
	}
	return ""
}

// luaNumber is tostring() of a Lua number as Kong's messages print it.
func luaNumber(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', 14, 64)
}

func equalJSON(a, b any) bool {
	if x, ok := toFloat(a); ok {
		y, ok := toFloat(b)
		return ok && x == y
	}
	return a == b
}

// IsReference reports whether s is a Kong vault reference
// ("{vault://<vault>/<path>}", kong/pdk/vault.lua is_reference).
func IsReference(s string) bool {
	return len(s) > len("{vault://}") && strings.HasPrefix(s, "{vault://") && strings.HasSuffix(s, "}")
}

// deepCopy copies a default (Kong: cycle_aware_deep_copy; an array keeps
// cjson's array metatable, so an empty default array stays []).
func deepCopy(v any, typ string) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x, "")
		}
		return out
	}
	if v == nil && typ == "array" {
		return []any{}
	}
	return v
}

func article(typ string) string {
	switch typ {
	case "integer", "array":
		return "an " + typ
	default:
		return "a " + typ
	}
}
