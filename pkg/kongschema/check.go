package kongschema

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Checked is what a plugin's compile starts from: a copy of *cfg with its
// defaults applied (ApplyDefaults), refused with a *ConfigError when Kong's
// schema for it (Generate) refuses it. So the plugin refuses exactly what
// Kong refuses, by the same rules and with the same messages, whether its
// config came through Kong or not (unit tests, `authkit check`, go-pdk's
// test harness); what Kong cannot express is the compile's own business.
//
// In Go a field cannot tell "unset" from its zero value unless it is a
// pointer, so a non-pointer field's zero value counts as unset: such a
// field's zero value must be valid and equal to its default, which
// TestZeroValuesAreUnset-style checks (CheckZeroValues) enforce.
func Checked[T any](cfg *T) (*T, error) {
	cp, err := WithDefaults(cfg)
	if err != nil {
		return nil, err
	}
	schema, err := Generate(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := schema.Normalize(ConfigMap(cp)); err != nil {
		if ve, ok := err.(*ValidationError); ok {
			return nil, &ConfigError{ve}
		}
		return nil, err
	}
	return cp, nil
}

// ConfigError is a config Kong's schema refuses, as a plugin reports it:
// one "field: message" line per error.
type ConfigError struct {
	*ValidationError
}

func (e *ConfigError) Error() string { return strings.Join(e.Lines(), "\n") }

func (e *ConfigError) Unwrap() error { return e.ValidationError }

// ConfigMap is the config struct v as the table Kong would hold for it:
// fields by json name; a nil pointer, slice or map and a non-pointer zero
// value are left out (unset), everything else is there.
func ConfigMap(v any) map[string]any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return map[string]any{}
		}
		rv = rv.Elem()
	}
	out, _ := tableOf(rv).(map[string]any)
	return out
}

// tableOf converts a Go value; nil means "unset".
func tableOf(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return tableOf(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if sf.PkgPath != "" {
				continue
			}
			f := v.Field(i)
			if f.Kind() != reflect.Pointer && f.Kind() != reflect.Slice && f.Kind() != reflect.Map && f.IsZero() {
				continue
			}
			if x := tableOf(f); x != nil {
				name := sf.Tag.Get("json")
				if name == "" {
					name = strings.ToLower(sf.Name)
				}
				out[name] = x
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = elemOf(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = elemOf(it.Value())
		}
		return out
	}
	return v.Interface()
}

// elemOf is tableOf for an element: a zero string or number in a list is
// a value, not "unset".
func elemOf(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Struct, reflect.Slice, reflect.Map:
		return tableOf(v)
	}
	return v.Interface()
}

// CheckZeroValues enforces what Checked relies on, for the config type of
// v and the records nested in it: a non-pointer field's zero value (which
// Go cannot tell from "unset") is what Kong does with the field unset. So
// it must equal the field's default when it has one, and pass the field's
// validators, unless the field is required (unset is then refused on both
// sides).
func CheckZeroValues(v any) error {
	schema, err := Generate(v)
	if err != nil {
		return err
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return zeroValues(t, schema, "")
}

func zeroValues(t reflect.Type, rec *Field, prefix string) error {
	var errs []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.PkgPath != "" {
			continue
		}
		name := sf.Tag.Get("json")
		f := rec.Lookup(name)
		if f == nil {
			continue
		}
		ft := sf.Type
		switch {
		case ft.Kind() == reflect.Struct:
			if err := zeroValues(ft, f, prefix+name+"."); err != nil {
				errs = append(errs, err.Error())
			}
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			if err := zeroValues(ft.Elem(), f.Elements, prefix+name+"[]."); err != nil {
				errs = append(errs, err.Error())
			}
			continue
		case ft.Kind() == reflect.Pointer, ft.Kind() == reflect.Slice, ft.Kind() == reflect.Map, f.Required:
			continue
		}
		zero := reflect.Zero(ft).Interface()
		if f.HasDefault && !equalJSON(jsonValue(reflect.ValueOf(zero)), f.Default) {
			errs = append(errs, fmt.Sprintf("%s%s: the zero value %#v is not the default %#v: make it a pointer", prefix, name, zero, f.Default))
		}
		if msg := check(f, jsonValue(reflect.ValueOf(zero))); msg != "" {
			errs = append(errs, fmt.Sprintf("%s%s: Kong refuses the zero value %#v (%s), which Go cannot tell from unset: allow it (len_min:\"0\"…) or make the field a pointer", prefix, name, zero, msg))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}
