package kongschema

import (
	"fmt"
	"strings"
)

// Entity checks, as Kong 3.9 runs them (kong/db/schema/init.lua
// Schema.entity_checkers): on the record's values after defaults, each
// check's error in the record's "@entity" list (POST /config: an error of
// type "entity", without a field).

// isNonEmpty is Kong's is_nonempty: nil, null, "" and an empty table are
// empty; false and 0 are not.
func isNonEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// quotedList is Kong's quoted_list: 'a', 'b'.
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
}

// entityCheck runs one check as Kong's run_entity_check does: not over a
// field holding a vault reference; mutually_required and
// mutually_exclusive not when one of their fields has an error (since
// start, the record's first error); none when all of its fields are
// absent (Kong fills every field but a required one without a default).
func (v *validator) entityCheck(rec *Field, c EntityCheck, record map[string]any, path []any, start int) {
	vals := dotted(record)
	allAbsent := true
	for _, name := range c.fields() {
		val, present := getField(record, name)
		if !present {
			continue
		}
		allAbsent = false
		if f := rec.Lookup(splitName(name)...); f != nil && f.Referenceable {
			if s, ok := val.(string); ok && IsReference(s) {
				return
			}
		}
		if (c.MutuallyRequired != nil || c.MutuallyExclusive != nil) && v.hasError(path, name, start) {
			return
		}
	}
	if allAbsent && c.Conditional != nil {
		return
	}
	if k := c.Conditional; k != nil {
		if _, present := getField(record, k.IfField); !present {
			v.set(fieldPath(path, k.IfField), "field required for entity check", start)
			return
		}
	}
	switch {
	case c.AtLeastOneOf != nil:
		for _, n := range c.AtLeastOneOf {
			if isNonEmpty(vals.get(n)) {
				return
			}
		}
		v.failEntity(path, "at least one of these fields must be non-empty: "+quotedList(c.AtLeastOneOf))
	case c.MutuallyRequired != nil:
		n := 0
		for _, name := range c.MutuallyRequired {
			if isNonEmpty(vals.get(name)) {
				n++
			}
		}
		if n != 0 && n != len(c.MutuallyRequired) {
			v.failEntity(path, "all or none of these fields must be set: "+quotedList(c.MutuallyRequired))
		}
	case c.MutuallyExclusive != nil:
		n := 0
		for _, name := range c.MutuallyExclusive {
			if isNonEmpty(vals.get(name)) {
				n++
			}
		}
		if n > 1 {
			v.failEntity(path, "only one or none of these fields must be set: "+quotedList(c.MutuallyExclusive))
		}
	case c.Conditional != nil:
		k := c.Conditional
		if !matches(rec.Lookup(splitName(k.IfField)...), k.IfMatch, vals.get(k.IfField)) {
			return
		}
		then := vals.get(k.ThenField)
		var msg string
		if k.ThenMatch.Required && then == nil {
			msg = "required field missing"
		} else {
			msg = check(merged(rec.Lookup(splitName(k.ThenField)...), k.ThenMatch), then)
		}
		if msg == "" {
			return
		}
		v.set(fieldPath(path, k.ThenField), msg, start)
		if k.ThenErr != "" {
			v.failEntity(path, luaFormat(k.ThenErr, k.IfField))
		} else {
			v.failEntity(path, fmt.Sprintf("failed conditional validation given value of field '%s'", k.IfField))
		}
	case c.ConditionalAtLeastOneOf != nil:
		k := c.ConditionalAtLeastOneOf
		if !matches(rec.Lookup(splitName(k.IfField)...), k.IfMatch, vals.get(k.IfField)) {
			return
		}
		for _, n := range k.ThenAtLeastOneOf {
			if isNonEmpty(vals.get(n)) {
				return
			}
		}
		list := quotedList(k.ThenAtLeastOneOf)
		if k.ThenErr != "" {
			v.failEntity(path, luaFormat(k.ThenErr, list))
		} else {
			v.failEntity(path, "at least one of these fields must be non-empty: "+list)
		}
	}
}

// set is Kong's set_field(errors, name, msg): the field's error since
// start, if any, is replaced.
func (v *validator) set(path []any, msg string, start int) {
	keep := v.errs[:start]
	for _, e := range v.errs[start:] {
		if e.Entity || !samePath(e.Path, path) {
			keep = append(keep, e)
		}
	}
	v.errs = keep
	v.fail(path, msg)
}

func samePath(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// hasError reports whether an error since start lies at or under
// path.name.
func (v *validator) hasError(path []any, name string, start int) bool {
	if strings.Contains(name, ".") {
		return false // Kong looks up errors["a.b"], which is never set
	}
	for _, e := range v.errs[start:] {
		if !e.Entity && len(e.Path) > len(path) && e.Path[len(path)] == splitName(name)[0] {
			return true
		}
	}
	return false
}

// Entity checks may name a field of a nested record with a dotted name
// ("redis.host"), as Kong's get_field allows.

func splitName(name string) []string { return strings.Split(name, ".") }

// getField is Kong's get_field: the value at a dotted name, and whether
// it is there at all (Kong: not nil; null is there).
func getField(record map[string]any, name string) (any, bool) {
	var cur any = record
	for _, part := range splitName(name) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// dotted gives record's values by dotted name, for the checks' lookups.
type dotted map[string]any

func (d dotted) get(name string) any {
	v, _ := getField(d, name)
	return v
}

// fieldPath is the error path of a (dotted) field of the record at path.
func fieldPath(path []any, name string) []any {
	out := path[:len(path):len(path)]
	for _, p := range splitName(name) {
		out = append(out, p)
	}
	return out
}

// fields are the record fields a check reads.
func (c EntityCheck) fields() []string {
	switch {
	case c.AtLeastOneOf != nil:
		return c.AtLeastOneOf
	case c.MutuallyRequired != nil:
		return c.MutuallyRequired
	case c.MutuallyExclusive != nil:
		return c.MutuallyExclusive
	case c.Conditional != nil:
		return []string{c.Conditional.IfField, c.Conditional.ThenField}
	case c.ConditionalAtLeastOneOf != nil:
		return append([]string{c.ConditionalAtLeastOneOf.IfField}, c.ConditionalAtLeastOneOf.ThenAtLeastOneOf...)
	}
	return nil
}

// matches is Kong's validate_field(if_match, value) with the match's
// metatable falling back to the field's own definition: a null value
// passes unless required.
func matches(field, match *Field, val any) bool {
	return check(merged(field, match), val) == ""
}

// merged is match with field's definition behind it (Lua's __index).
func merged(field, match *Field) *Field {
	if field == nil {
		field = &Field{}
	}
	m := *field
	if match == nil {
		return &m
	}
	if match.Required {
		m.Required = true
	}
	if match.OneOf != nil {
		m.OneOf = match.OneOf
	}
	if match.Between != nil {
		m.Between = match.Between
	}
	if match.Gt != nil {
		m.Gt = match.Gt
	}
	m.LenEq, m.LenMin, m.LenMax = or(match.LenEq, m.LenEq), or(match.LenMin, m.LenMin), or(match.LenMax, m.LenMax)
	if match.MatchAll != nil {
		m.MatchAll = match.MatchAll
	}
	if match.MatchNone != nil {
		m.MatchNone = match.MatchNone
	}
	if match.MatchAny != nil {
		m.MatchAny = match.MatchAny
	}
	return &m
}

// luaFormat is string.format with one %s argument.
func luaFormat(format, arg string) string {
	if strings.Contains(format, "%s") {
		return strings.Replace(format, "%s", arg, 1)
	}
	return format
}
