// Package kongschema is the Kong plugin schema of the authkit plugins and
// Kong's validation of a plugin config against it (kong-go-plugins.md
// §1.4, §2.1; Kong 3.9's kong/db/schema/init.lua).
//
// Generate derives a plugin's full schema from its Config struct: go-pdk's
// types and names (FromStruct, a port of go-pdk's getSchemaDict) plus the
// attributes each field declares in struct tags (default, required,
// one_of, between, len_min, match…, referenceable) and the record's entity
// checks. The plugin prints it with -dump, so Kong applies the defaults and
// refuses what the schema refuses; Lua renders it as a schema.lua.
// Normalize is Kong's side: defaults, validation and error messages, as
// `authkit check`, the wire-level tests and the plugins' own compile use it.
package kongschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Field is one field definition of a Kong schema.
type Field struct {
	Type     string       // "string", "boolean", "integer", "number", "array", "map", "record"; "" in a conditional's match
	Fields   []NamedField // record: fields in struct order
	Elements *Field       // array
	Keys     *Field       // map
	Values   *Field       // map

	// Kong's field attributes beyond go-pdk's (go-pdk emits only Between,
	// for uint types).
	Default       any   // a JSON value (string, float64/int, bool, []any, map[string]any); see HasDefault
	HasDefault    bool  // Default is set (a default can be JSON null)
	Required      bool  // null or missing is "required field missing"
	Referenceable bool  // a "{vault://…}" value is resolved by Kong and not validated
	OneOf         []any // the value must equal one of these
	Between       []int // number/integer: inclusive bounds
	Gt            *float64
	LenEq         *int // string: bytes; array: elements; map: entries
	LenMin        *int // a string without LenMin has Kong's 1
	LenMax        *int
	MatchAll      []MatchRule // every pattern must match (Lua patterns)
	MatchNone     []MatchRule // no pattern may match
	MatchAny      *MatchAny   // one pattern must match
	Description   string

	// EntityChecks are a record's cross-field rules.
	EntityChecks []EntityCheck
}

// NamedField is one entry of a record's fields list ({"<name>": {...}}).
type NamedField struct {
	Name  string
	Field *Field
}

// MatchRule is one entry of match_all or match_none: a Lua pattern and
// the error shown when the rule fails. Kong shows Err, never the value (a
// plain `match` would echo the value, which may be a secret typed into the
// wrong field).
type MatchRule struct {
	Pattern string `json:"pattern"`
	Err     string `json:"err,omitempty"`
}

// MatchAny is Kong's match_any: one of Patterns must match, else Err.
type MatchAny struct {
	Patterns []string `json:"patterns"`
	Err      string   `json:"err,omitempty"`
}

// EntityCheck is one of a record's entity_checks (exactly one member set).
type EntityCheck struct {
	AtLeastOneOf            []string                 `json:"at_least_one_of,omitempty"`
	MutuallyRequired        []string                 `json:"mutually_required,omitempty"`
	MutuallyExclusive       []string                 `json:"mutually_exclusive,omitempty"`
	Conditional             *Conditional             `json:"conditional,omitempty"`
	ConditionalAtLeastOneOf *ConditionalAtLeastOneOf `json:"conditional_at_least_one_of,omitempty"`
}

// Conditional: when IfField's value passes IfMatch, ThenField's must pass
// ThenMatch (Kong: the error goes to ThenField, ThenErr — with %s for
// IfField — to the entity).
type Conditional struct {
	IfField   string `json:"if_field"`
	IfMatch   *Field `json:"if_match"`
	ThenField string `json:"then_field"`
	ThenMatch *Field `json:"then_match"`
	ThenErr   string `json:"then_err,omitempty"`
}

// ConditionalAtLeastOneOf: when IfField's value passes IfMatch, one of
// ThenAtLeastOneOf must be non-empty (ThenErr, with %s for the list).
type ConditionalAtLeastOneOf struct {
	IfField          string   `json:"if_field"`
	IfMatch          *Field   `json:"if_match"`
	ThenAtLeastOneOf []string `json:"then_at_least_one_of"`
	ThenErr          string   `json:"then_err,omitempty"`
}

// jsonField is Field in Kong's JSON notation, keys in a fixed order.
type jsonField struct {
	Type          string                        `json:"type,omitempty"`
	Required      bool                          `json:"required,omitempty"`
	Default       json.RawMessage               `json:"default,omitempty"`
	Referenceable bool                          `json:"referenceable,omitempty"`
	OneOf         []any                         `json:"one_of,omitempty"`
	Between       []int                         `json:"between,omitempty"`
	Gt            *float64                      `json:"gt,omitempty"`
	LenEq         *int                          `json:"len_eq,omitempty"`
	LenMin        *int                          `json:"len_min,omitempty"`
	LenMax        *int                          `json:"len_max,omitempty"`
	MatchAll      []MatchRule                   `json:"match_all,omitempty"`
	MatchNone     []MatchRule                   `json:"match_none,omitempty"`
	MatchAny      *MatchAny                     `json:"match_any,omitempty"`
	Description   string                        `json:"description,omitempty"`
	Fields        *[]map[string]json.RawMessage `json:"fields,omitempty"`
	Elements      *Field                        `json:"elements,omitempty"`
	Keys          *Field                        `json:"keys,omitempty"`
	Values        *Field                        `json:"values,omitempty"`
	EntityChecks  []EntityCheck                 `json:"entity_checks,omitempty"`
}

// UnmarshalJSON decodes Kong's schema notation, where record fields are a
// list of single-key objects.
func (f *Field) UnmarshalJSON(b []byte) error {
	var aux jsonField
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	*f = Field{Type: aux.Type, Elements: aux.Elements, Keys: aux.Keys, Values: aux.Values, Between: aux.Between,
		Required: aux.Required, Referenceable: aux.Referenceable, OneOf: plainJSON(aux.OneOf), Gt: aux.Gt,
		LenEq: aux.LenEq, LenMin: aux.LenMin, LenMax: aux.LenMax, MatchAll: aux.MatchAll, MatchNone: aux.MatchNone,
		MatchAny: aux.MatchAny, Description: aux.Description, EntityChecks: aux.EntityChecks}
	if aux.Default != nil {
		var d any
		dd := json.NewDecoder(bytes.NewReader(aux.Default))
		dd.UseNumber()
		if err := dd.Decode(&d); err != nil {
			return fmt.Errorf("default: %w", err)
		}
		f.Default, f.HasDefault = plainJSONValue(d), true
	}
	if aux.Fields != nil {
		for _, m := range *aux.Fields {
			if len(m) != 1 {
				return fmt.Errorf("kongschema: record field entry with %d keys, want 1", len(m))
			}
			for name, raw := range m {
				sub := new(Field)
				if err := json.Unmarshal(raw, sub); err != nil {
					return fmt.Errorf("field %q: %w", name, err)
				}
				f.Fields = append(f.Fields, NamedField{Name: name, Field: sub})
			}
		}
	}
	return nil
}

// plainJSON turns json.Numbers into int64 (integral) or float64.
func plainJSON(vs []any) []any {
	for i, v := range vs {
		vs[i] = plainJSONValue(v)
	}
	return vs
}

func plainJSONValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		return plainJSON(v)
	case map[string]any:
		for k, x := range v {
			v[k] = plainJSONValue(x)
		}
	}
	return v
}

// MarshalJSON writes Kong's schema notation (the inverse of UnmarshalJSON);
// a record always has its fields list.
func (f *Field) MarshalJSON() ([]byte, error) {
	aux := jsonField{Type: f.Type, Required: f.Required, Referenceable: f.Referenceable, OneOf: f.OneOf,
		Between: f.Between, Gt: f.Gt, LenEq: f.LenEq, LenMin: f.LenMin, LenMax: f.LenMax, MatchAll: f.MatchAll,
		MatchNone: f.MatchNone, MatchAny: f.MatchAny, Description: f.Description, Elements: f.Elements,
		Keys: f.Keys, Values: f.Values, EntityChecks: f.EntityChecks}
	if f.HasDefault {
		d, err := json.Marshal(f.Default)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		aux.Default = d
	}
	if f.Type == "record" || len(f.Fields) > 0 {
		list := make([]map[string]json.RawMessage, 0, len(f.Fields))
		for _, nf := range f.Fields {
			b, err := json.Marshal(nf.Field)
			if err != nil {
				return nil, err
			}
			list = append(list, map[string]json.RawMessage{nf.Name: b})
		}
		aux.Fields = &list
	}
	return json.Marshal(aux)
}

// Lookup returns the field at the dotted path of record names below f
// (e.g. "inner", "username"), or nil.
func (f *Field) Lookup(path ...string) *Field {
	for _, name := range path {
		if f == nil {
			return nil
		}
		if f.Type == "array" && f.Elements != nil { // credentials, username: an element's field
			f = f.Elements
		}
		var next *Field
		for _, nf := range f.Fields {
			if nf.Name == name {
				next = nf.Field
				break
			}
		}
		f = next
	}
	return f
}

// Parse returns the `config` record of a plugin schema as `-dump` prints it
// in Plugins[0].Schema: {"name":..,"fields":[{"config":{"type":"record",...}}]}
// (kong-go-plugins.md §1.4).
func Parse(dumpSchemaJSON []byte) (*Field, error) {
	var top struct {
		Name   string                       `json:"name"`
		Fields []map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(dumpSchemaJSON, &top); err != nil {
		return nil, fmt.Errorf("kongschema: decoding schema: %w", err)
	}
	for _, m := range top.Fields {
		if raw, ok := m["config"]; ok {
			f := new(Field)
			if err := json.Unmarshal(raw, f); err != nil {
				return nil, fmt.Errorf("kongschema: decoding config schema: %w", err)
			}
			if f.Type != "record" {
				return nil, fmt.Errorf("kongschema: config schema has type %q, want record", f.Type)
			}
			return f, nil
		}
	}
	return nil, errors.New("kongschema: schema has no config field")
}

// Plugin is a plugin's whole schema as Kong reads it: its name and the
// config record ({"name":…,"fields":[{"config":…}]}).
func Plugin(name string, config *Field) map[string]any {
	return map[string]any{"name": name, "fields": []map[string]any{{"config": config}}}
}
