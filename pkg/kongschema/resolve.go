package kongschema

import (
	"strings"
)

// Resolve replaces, in a normalized config (Normalize's result), every
// vault reference held by a referenceable string field, element or map
// value with lookup's answer, as Kong does when it loads the config for
// its workers (kong/db/schema/init.lua process_auto_fields, "select"): a
// reference lookup cannot resolve becomes "" (Kong logs a warning), and
// each record lists its fields' references in "$refs", as Kong does. It
// returns the references it could not resolve.
func (f *Field) Resolve(cfg map[string]any, lookup func(ref string) (string, bool)) []string {
	var failed []string
	resolve := func(v any) any {
		s, ok := v.(string)
		if !ok || !IsReference(s) {
			return v
		}
		if r, ok := lookup(s); ok {
			return r
		}
		failed = append(failed, s)
		return ""
	}
	var walk func(f *Field, v any) any
	walk = func(f *Field, v any) any {
		switch f.Type {
		case "string":
			if f.Referenceable {
				return resolve(v)
			}
		case "array":
			if items, ok := v.([]any); ok {
				for i, x := range items {
					items[i] = walk(f.Elements, x)
				}
			}
		case "map":
			if m, ok := v.(map[string]any); ok {
				for k, x := range m {
					m[k] = walk(f.Values, x)
				}
			}
		case "record":
			if m, ok := v.(map[string]any); ok {
				refs := map[string]any{}
				for _, nf := range f.Fields {
					if x, present := m[nf.Name]; present {
						if s, isStr := x.(string); isStr && nf.Field.Type == "string" && nf.Field.Referenceable && IsReference(s) {
							refs[nf.Name] = s
						}
						m[nf.Name] = walk(nf.Field, x)
					}
				}
				if len(refs) > 0 {
					m["$refs"] = refs // as Kong sends it: the record's references by field
				}
			}
		}
		return v
	}
	walk(f, cfg)
	return failed
}

// EnvVault is Kong's env vault over env (a map of environment variables):
// {vault://env/<name>} is the variable <NAME>, upper-cased with '-' as '_'
// (kong/vaults/env/init.lua). Other vaults are not resolved.
func EnvVault(env map[string]string) func(ref string) (string, bool) {
	return func(ref string) (string, bool) {
		rest, ok := strings.CutPrefix(ref, "{vault://env/")
		if !ok {
			return "", false
		}
		name := strings.ToUpper(strings.ReplaceAll(strings.TrimSuffix(rest, "}"), "-", "_"))
		v, ok := env[name]
		return v, ok
	}
}
