package kongschema_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

func TestParseRoundTrip(t *testing.T) {
	dump := `{"name":"x","fields":[{"config":{"type":"record","fields":[
		{"a":{"type":"string"}},{"n":{"type":"integer","between":[0,2147483648]}},
		{"l":{"type":"array","elements":{"type":"record","fields":[{"u":{"type":"string"}}]}}},
		{"m":{"type":"map","keys":{"type":"string"},"values":{"type":"number"}}},{"e":{"type":"record","fields":[]}}]}}]}`
	f, err := kongschema.Parse([]byte(dump))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	var g kongschema.Field
	if err := json.Unmarshal(b, &g); err != nil || !reflect.DeepEqual(f, &g) {
		t.Fatalf("round trip: %s %v", b, err)
	}
	if !strings.Contains(string(b), `{"e":{"type":"record","fields":[]}}`) {
		t.Errorf("an empty record must keep its fields list: %s", b)
	}
	for _, bad := range []string{`{`, `{"fields":[]}`, `{"fields":[{"config":{"type":"string"}}]}`, `{"fields":[{"config":{"type":"record","fields":[{"a":{},"b":{}}]}}]}`} {
		if _, err := kongschema.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

func TestNormalizeMessages(t *testing.T) {
	type cfg struct {
		Realm string   `json:"realm"`
		Hide  bool     `json:"hide_credentials"`
		Max   uint32   `json:"max"`
		Names []string `json:"names"`
		Inner struct {
			User string `json:"user"`
		} `json:"inner"`
	}
	f := kongschema.FromStruct(cfg{})
	out, err := f.Normalize(map[string]any{"realm": "r", "names": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(out); got != "map[hide_credentials:<nil> inner:map[user:<nil>] max:<nil> names:[] realm:r]" {
		t.Errorf("normalized %s", got)
	}
	_, err = f.Normalize(map[string]any{"realm": "", "hide_credentials": "yes", "max": -1.0, "names": []any{"a", 2.0}, "inner": nil, "x": 1})
	var ve *kongschema.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	want := []string{
		"in 'config': in 'hide_credentials': expected a boolean",
		"in 'config': in 'inner': required field missing",
		"in 'config': in 'max': value should be between 0 and 2147483648",
		"in 'config': in 'names': in entry 2 of 'names': expected a string",
		"in 'config': in 'realm': length must be at least 1",
		"in 'config': in 'x': unknown field",
	}
	if !reflect.DeepEqual(ve.Errors, want) {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(ve.Errors, "\n"), strings.Join(want, "\n"))
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"name":"x","fields":[{"config":{"type":"record","fields":[{"a":{"type":"string"}}]}}]}`))
	f.Add([]byte(`{"fields":[{"config":{"type":"record","fields":[{"m":{"type":"map","keys":{"type":"string"},"values":{"type":"integer","between":[0,1]}}}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := kongschema.Parse(b)
		if err != nil {
			return
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var again kongschema.Field
		if err := json.Unmarshal(js, &again); err != nil {
			t.Fatalf("re-reading %s: %v", js, err)
		}
		_, _ = s.Normalize(map[string]any{"a": "x"})
	})
}

// ExampleFromStruct validates a kong.yaml config the way Kong does at
// start-up, without the plugin binary.
func ExampleFromStruct() {
	type Config struct {
		Realm   string `json:"realm"`
		TTL     int64  `json:"ttl"` // int64 is dropped by go-pdk: Kong refuses "ttl"
		Retries int    `json:"retries"`
	}
	schema := kongschema.FromStruct(&Config{})
	_, err := schema.Normalize(map[string]any{"realm": "api", "ttl": 30, "retries": "3"})
	var ve *kongschema.ValidationError
	if errors.As(err, &ve) {
		for _, e := range ve.Errors {
			fmt.Println(e)
		}
	}
	// Output:
	// in 'config': in 'retries': expected an integer
	// in 'config': in 'ttl': unknown field
}
