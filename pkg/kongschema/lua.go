package kongschema

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Lua renders a plugin's schema as the schema.lua of a Lua plugin
// (kong/plugins/<name>/schema.lua): the same table Kong builds from the
// JSON of -dump, for a control plane or Konnect that validates configs
// without running the plugin binaries. header is written as Lua comments
// at the top.
func Lua(name string, config *Field, header string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		if l == "" {
			b.WriteString("--\n")
		} else {
			b.WriteString("-- " + l + "\n")
		}
	}
	b.WriteString("return {\n")
	fmt.Fprintf(&b, "  name = %s,\n", luaString(name))
	b.WriteString("  fields = {\n")
	b.WriteString("    { config = ")
	writeLuaField(&b, config, 4)
	b.WriteString(" },\n")
	b.WriteString("  },\n")
	b.WriteString("}\n")
	return b.String()
}

// writeLuaField writes a field definition table, attributes in a fixed
// order, nested tables indented by depth.
func writeLuaField(b *strings.Builder, f *Field, depth int) {
	in := strings.Repeat(" ", depth+2)
	b.WriteString("{\n")
	kv := func(k, v string) { fmt.Fprintf(b, "%s%s = %s,\n", in, k, v) }
	if f.Type != "" {
		kv("type", luaString(f.Type))
	}
	if f.Required {
		kv("required", "true")
	}
	if f.HasDefault {
		kv("default", luaValue(f.Default, depth+2))
	}
	if f.Referenceable {
		kv("referenceable", "true")
	}
	if f.OneOf != nil {
		kv("one_of", luaValue(f.OneOf, depth+2))
	}
	if f.Between != nil {
		kv("between", fmt.Sprintf("{ %d, %d }", f.Between[0], f.Between[1]))
	}
	if f.Gt != nil {
		kv("gt", luaNumber(*f.Gt))
	}
	for _, n := range []struct {
		k string
		v *int
	}{{"len_eq", f.LenEq}, {"len_min", f.LenMin}, {"len_max", f.LenMax}} {
		if n.v != nil {
			kv(n.k, strconv.Itoa(*n.v))
		}
	}
	for _, m := range []struct {
		k     string
		rules []MatchRule
	}{{"match_all", f.MatchAll}, {"match_none", f.MatchNone}} {
		if m.rules == nil {
			continue
		}
		var items []string
		for _, r := range m.rules {
			item := "{ pattern = " + luaString(r.Pattern)
			if r.Err != "" {
				item += ", err = " + luaString(r.Err)
			}
			items = append(items, item+" }")
		}
		kv(m.k, "{ "+strings.Join(items, ", ")+" }")
	}
	if f.MatchAny != nil {
		s := "{ patterns = " + luaValue(toAnys(f.MatchAny.Patterns), depth+2)
		if f.MatchAny.Err != "" {
			s += ", err = " + luaString(f.MatchAny.Err)
		}
		kv("match_any", s+" }")
	}
	if f.Description != "" {
		kv("description", luaString(f.Description))
	}
	for _, sub := range []struct {
		k string
		f *Field
	}{{"elements", f.Elements}, {"keys", f.Keys}, {"values", f.Values}} {
		if sub.f != nil {
			fmt.Fprintf(b, "%s%s = ", in, sub.k)
			writeLuaField(b, sub.f, depth+2)
			b.WriteString(",\n")
		}
	}
	if f.Type == "record" {
		fmt.Fprintf(b, "%sfields = {\n", in)
		for _, nf := range f.Fields {
			fmt.Fprintf(b, "%s  { %s = ", in, luaKey(nf.Name))
			writeLuaField(b, nf.Field, depth+4)
			b.WriteString(" },\n")
		}
		fmt.Fprintf(b, "%s},\n", in)
	}
	if len(f.EntityChecks) > 0 {
		fmt.Fprintf(b, "%sentity_checks = {\n", in)
		for _, c := range f.EntityChecks {
			fmt.Fprintf(b, "%s  { %s },\n", in, luaEntityCheck(c, depth+4))
		}
		fmt.Fprintf(b, "%s},\n", in)
	}
	b.WriteString(strings.Repeat(" ", depth) + "}")
}

func luaEntityCheck(c EntityCheck, depth int) string {
	switch {
	case c.AtLeastOneOf != nil:
		return "at_least_one_of = " + luaValue(toAnys(c.AtLeastOneOf), depth)
	case c.MutuallyRequired != nil:
		return "mutually_required = " + luaValue(toAnys(c.MutuallyRequired), depth)
	case c.MutuallyExclusive != nil:
		return "mutually_exclusive = " + luaValue(toAnys(c.MutuallyExclusive), depth)
	case c.Conditional != nil:
		k := c.Conditional
		s := fmt.Sprintf("conditional = { if_field = %s, if_match = %s, then_field = %s, then_match = %s",
			luaString(k.IfField), luaMatchTable(k.IfMatch, depth), luaString(k.ThenField), luaMatchTable(k.ThenMatch, depth))
		if k.ThenErr != "" {
			s += ", then_err = " + luaString(k.ThenErr)
		}
		return s + " }"
	case c.ConditionalAtLeastOneOf != nil:
		k := c.ConditionalAtLeastOneOf
		s := fmt.Sprintf("conditional_at_least_one_of = { if_field = %s, if_match = %s, then_at_least_one_of = %s",
			luaString(k.IfField), luaMatchTable(k.IfMatch, depth), luaValue(toAnys(k.ThenAtLeastOneOf), depth))
		if k.ThenErr != "" {
			s += ", then_err = " + luaString(k.ThenErr)
		}
		return s + " }"
	}
	return ""
}

// luaMatchTable renders a conditional's match (a field without a type) on
// one line.
func luaMatchTable(f *Field, depth int) string {
	if f == nil {
		return "{}"
	}
	var b strings.Builder
	writeLuaField(&b, f, depth)
	return strings.Join(strings.Fields(b.String()), " ")
}

func toAnys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// luaValue renders a JSON value as a Lua constructor (null is ngx.null).
func luaValue(v any, depth int) string {
	switch v := v.(type) {
	case nil:
		return "ngx.null"
	case string:
		return luaString(v)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		if len(v) == 0 {
			return "{}"
		}
		items := make([]string, len(v))
		for i, x := range v {
			items[i] = luaValue(x, depth)
		}
		return "{ " + strings.Join(items, ", ") + " }"
	case map[string]any:
		if len(v) == 0 {
			return "{}"
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = "[" + luaString(k) + "] = " + luaValue(v[k], depth)
		}
		return "{ " + strings.Join(items, ", ") + " }"
	}
	if x, ok := toFloat(v); ok && !math.IsInf(x, 0) {
		return luaNumber(x)
	}
	return luaString(fmt.Sprint(v))
}

// luaKey is a table key: a bare name when Lua allows one.
func luaKey(k string) string {
	for i, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return "[" + luaString(k) + "]"
		}
	}
	if luaReserved[k] || k == "" {
		return "[" + luaString(k) + "]"
	}
	return k
}

var luaReserved = map[string]bool{"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true, "local": true, "nil": true,
	"not": true, "or": true, "repeat": true, "return": true, "then": true, "true": true, "until": true, "while": true}

// luaString quotes s as a Lua string literal, byte for byte (decimal
// escapes for control characters and bytes outside ASCII).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\%03d`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
