package kongschema

import (
	"reflect"
	"strings"
)

// FromStruct returns the Kong schema go-pdk v0.11.2 emits for the config
// type of v (a struct or a pointer to one, typically what the plugin's New
// returns): a line-by-line port of getSchemaDict (go-pdk server/rpc.go),
// quirks included, because Kong validates against exactly that:
//   - the field name is the raw json tag, NOT split on commas
//     (`json:"x,omitempty"` is a field named "x,omitempty", `json:"-"` one
//     named "-"), or the lower-cased Go name when there is no tag;
//   - string, bool, int/int32 and float32/float64 map to string, boolean,
//     integer and number; uint/uint32 to an integer between 0 and 2147483648;
//   - a pointer is its element, a slice an array, a map a map, a struct a
//     record in field order; unexported fields are skipped;
//   - every other type (int64, int8/16, uint8/16/64, []byte, interface{},
//     time.Duration, arrays, ...) is silently dropped, and so is a slice or
//     map of one — Kong then refuses the field as unknown.
//
// It returns nil when v's type itself is not representable. Like go-pdk it
// does not guard against recursive types.
func FromStruct(v any) *Field {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil
	}
	return fromType(t)
}

func fromType(t reflect.Type) *Field {
	switch t.Kind() {
	case reflect.String:
		return &Field{Type: "string"}
	case reflect.Bool:
		return &Field{Type: "boolean"}
	case reflect.Int, reflect.Int32:
		return &Field{Type: "integer"}
	case reflect.Uint, reflect.Uint32:
		return &Field{Type: "integer", Between: []int{0, 2147483648}}
	case reflect.Float32, reflect.Float64:
		return &Field{Type: "number"}
	case reflect.Pointer:
		return fromType(t.Elem())
	case reflect.Slice:
		if elem := fromType(t.Elem()); elem != nil {
			return &Field{Type: "array", Elements: elem}
		}
	case reflect.Map:
		k, v := fromType(t.Key()), fromType(t.Elem())
		if k != nil && v != nil {
			return &Field{Type: "map", Keys: k, Values: v}
		}
	case reflect.Struct:
		f := &Field{Type: "record"}
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if sf.PkgPath != "" { // unexported (go-pdk tests PkgPath, not IsExported)
				continue
			}
			sub := fromType(sf.Type)
			if sub == nil {
				continue
			}
			name := sf.Tag.Get("json")
			if name == "" {
				name = strings.ToLower(sf.Name)
			}
			f.Fields = append(f.Fields, NamedField{Name: name, Field: sub})
		}
		return f
	}
	return nil
}
