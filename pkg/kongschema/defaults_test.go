package kongschema_test

import (
	"reflect"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

type inner struct {
	Strict *bool  `json:"strict" default:"true"`
	Name   string `json:"name"`
}

type defaulted struct {
	Realm   *string           `json:"realm" default:"service"`
	Level   string            `json:"level" default:"notice"`
	TTL     *int              `json:"ttl" default:"300"`
	Off     *int              `json:"off" default:"0"`
	On      *bool             `json:"on" default:"true"`
	Names   []string          `json:"names" default:"apikey,x-api-key"`
	Empty   []string          `json:"empty" default:""`
	Map     map[string]string `json:"map" default:""`
	Inners  []inner           `json:"inners" default:""`
	Ptr     *inner            `json:"ptr"`
	Plain   int               `json:"plain"`
	Ratio   float64           `json:"ratio" default:"0.5"`
	Unknown string            `json:"unknown"`
}

func ptr[T any](v T) *T { return &v }

func TestApplyDefaults(t *testing.T) {
	var c defaulted
	if err := kongschema.ApplyDefaults(&c); err != nil {
		t.Fatal(err)
	}
	want := defaulted{Realm: ptr("service"), Level: "notice", TTL: ptr(300), Off: ptr(0), On: ptr(true),
		Names: []string{"apikey", "x-api-key"}, Empty: []string{}, Map: map[string]string{}, Inners: []inner{}, Ratio: 0.5}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("zero config:\n got %+v\nwant %+v", c, want)
	}

	// What is set stays, including zero values behind pointers and empty
	// lists; nested records get their own defaults.
	set := defaulted{Realm: ptr(""), Level: "debug", TTL: ptr(0), On: ptr(false), Names: []string{}, Ptr: &inner{Name: "x"},
		Inners: []inner{{Name: "a"}, {Strict: ptr(false)}}}
	shared := set
	if err := kongschema.ApplyDefaults(&set); err != nil {
		t.Fatal(err)
	}
	if *set.Realm != "" || set.Level != "debug" || *set.TTL != 0 || *set.On || len(set.Names) != 0 || set.Names == nil {
		t.Fatalf("set values overwritten: %+v", set)
	}
	if !*set.Ptr.Strict || !*set.Inners[0].Strict || *set.Inners[1].Strict {
		t.Fatalf("nested defaults: %+v %+v", set.Ptr, set.Inners)
	}
	// The copy it started from is untouched (a compile defaults a shallow
	// copy of a config other instances share).
	if shared.Ptr.Strict != nil || shared.Inners[0].Strict != nil {
		t.Fatalf("defaults written through to a shared config: %+v %+v", shared.Ptr, shared.Inners)
	}

	// Defaulted lists are not shared between configs.
	var a, b defaulted
	_ = kongschema.ApplyDefaults(&a)
	_ = kongschema.ApplyDefaults(&b)
	a.Names[0] = "changed"
	if b.Names[0] != "apikey" {
		t.Fatal("two configs share a default list")
	}
}

func TestDefaultLiteralErrors(t *testing.T) {
	for _, c := range []any{
		&struct {
			N *int `default:"three"`
		}{},
		&struct {
			B bool `default:"yes please"`
		}{},
		&struct {
			M map[string]string `default:"a"`
		}{},
		&struct {
			L []int `default:"1,x"`
		}{},
		&struct {
			F func() `default:"x"`
		}{},
	} {
		if err := kongschema.ApplyDefaults(c); err == nil {
			t.Errorf("%T: a bad default literal was accepted", c)
		}
	}
	if err := kongschema.ApplyDefaults(defaulted{}); err == nil {
		t.Error("a struct value (not a pointer) was accepted")
	}
}

// FuzzDefaultLiteral: any literal either parses into a value of the
// field's type or is an error; never a panic.
func FuzzDefaultLiteral(f *testing.F) {
	for _, s := range []string{"", "300", "-1", "true", "apikey,x", "0.5", "1e400", ",,"} {
		f.Add(s)
	}
	types := []reflect.Type{reflect.TypeOf(""), reflect.TypeOf(0), reflect.TypeOf(int32(0)), reflect.TypeOf(uint(0)), reflect.TypeOf(true),
		reflect.TypeOf(0.0), reflect.TypeOf([]string{}), reflect.TypeOf([]int{}), reflect.TypeOf(map[string]string{}), reflect.TypeOf(&struct{}{})}
	f.Fuzz(func(t *testing.T, lit string) {
		for _, typ := range types {
			sf := reflect.StructField{Name: "F", Type: typ, Tag: reflect.StructTag(`default:` + quote(lit))}
			v, ok, err := kongschema.Default(sf)
			if !ok {
				if _, has := sf.Tag.Lookup("default"); has {
					t.Fatalf("%s: tag %q not seen", typ, sf.Tag)
				}
				continue
			}
			if err == nil && v.Type() != deref(typ) {
				t.Fatalf("%s: default of type %s", typ, v.Type())
			}
		}
	})
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// quote writes a struct-tag value (reflect.StructTag unquotes with
// strconv.Unquote rules).
func quote(s string) string {
	out := []byte{'"'}
	for _, c := range []byte(s) {
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		default:
			if c < 0x20 || c >= 0x7f {
				out = append(out, []byte(`\x`+"0123456789abcdef"[c>>4:c>>4+1]+"0123456789abcdef"[c&15:c&15+1])...)
				continue
			}
			out = append(out, c)
		}
	}
	return string(append(out, '"'))
}
