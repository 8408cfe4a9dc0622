// Package kongschema is the Kong plugin schema a go-pdk (v0.11.2) plugin
// declares, and Kong's validation of a plugin config against it
// (kong-go-plugins.md §1.4, §2.1). FromStruct derives the schema from the
// Config struct exactly as go-pdk's getSchemaDict does, so `authkit check`
// judges a kong.yaml offline as Kong does at start-up; Parse reads the schema
// a plugin binary prints with -dump, which the wire-level tests use.
package kongschema

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Field is one field definition of the Kong schema emitted by go-pdk's
// getSchemaDict (kong-go-plugins.md §1.4). go-pdk only ever emits type,
// fields, elements, keys, values and between.
type Field struct {
	Type     string       // "string", "boolean", "integer", "number", "array", "map", "record"
	Fields   []NamedField // record: fields in struct order
	Elements *Field       // array
	Keys     *Field       // map
	Values   *Field       // map
	Between  []int        // integer: inclusive bounds (uint/uint32 → [0, 2147483648])
}

// NamedField is one entry of a record's fields list ({"<name>": {...}}).
type NamedField struct {
	Name  string
	Field *Field
}

// UnmarshalJSON decodes Kong's schema notation, where record fields are a
// list of single-key objects.
func (f *Field) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type     string                       `json:"type"`
		Fields   []map[string]json.RawMessage `json:"fields"`
		Elements *Field                       `json:"elements"`
		Keys     *Field                       `json:"keys"`
		Values   *Field                       `json:"values"`
		Between  []int                        `json:"between"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Field{Type: aux.Type, Elements: aux.Elements, Keys: aux.Keys, Values: aux.Values, Between: aux.Between}
	for _, m := range aux.Fields {
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
	return nil
}

// MarshalJSON writes Kong's schema notation (the inverse of UnmarshalJSON)
// with only the keys go-pdk emits; a record always has its fields list.
func (f *Field) MarshalJSON() ([]byte, error) {
	type named map[string]*Field
	aux := struct {
		Type     string   `json:"type"`
		Fields   *[]named `json:"fields,omitempty"`
		Elements *Field   `json:"elements,omitempty"`
		Keys     *Field   `json:"keys,omitempty"`
		Values   *Field   `json:"values,omitempty"`
		Between  []int    `json:"between,omitempty"`
	}{Type: f.Type, Elements: f.Elements, Keys: f.Keys, Values: f.Values, Between: f.Between}
	if f.Type == "record" || len(f.Fields) > 0 {
		list := make([]named, 0, len(f.Fields))
		for _, nf := range f.Fields {
			list = append(list, named{nf.Name: nf.Field})
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
