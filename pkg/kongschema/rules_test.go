package kongschema_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// ruled declares one of each attribute the authkit configs use; its
// expected behaviour is what Kong 3.9.3 answered for the same schema (a
// hand-written -dump, POST /config with flatten_errors).
type ruled struct {
	Mode    *string           `json:"mode" required:"true" default:"all" one_of:"all,any"`
	N       *int              `json:"n" default:"5" between:"0,10"`
	Max     int               `json:"max_failures" required:"true" default:"0" between:"0,100"`
	Lockout int               `json:"lockout_seconds" default:"0" between:"0,100"`
	Empty   string            `json:"empty_ok" len_min:"0"`
	Names   []string          `json:"names" default:"apikey" len_min:"1"`
	Secret  string            `json:"secret" default:"" len_min:"0" referenceable:"true"`
	File    string            `json:"file" default:"" len_min:"0"`
	URL     string            `json:"url" default:"" len_min:"0" match_any:"^$|^https?://[^/]" match_err:"must be an absolute http(s) URL"`
	Creds   []ruledCred       `json:"creds" default:""`
	Headers map[string]string `json:"hdrs" default:"" value_match_none:"[ :\r\n]" value_match_err:"not a header name"`
}

type ruledCred struct {
	ID   string `json:"id" required:"true" match_none:"%c" match_err:"must not contain control characters"`
	Hash string `json:"hash" required:"true" match_all:"^sha256:%x+$" match_err:"must be sha256:<hex>"`
}

func (ruled) KongSchema(rec *kongschema.Field) {
	positive := &kongschema.Field{Gt: kongschema.Ptr(0.0)}
	rec.EntityChecks = append(rec.EntityChecks,
		kongschema.EntityCheck{AtLeastOneOf: []string{"creds", "file"}},
		kongschema.EntityCheck{Conditional: &kongschema.Conditional{IfField: "max_failures", IfMatch: positive, ThenField: "lockout_seconds", ThenMatch: positive}},
		kongschema.EntityCheck{ConditionalAtLeastOneOf: &kongschema.ConditionalAtLeastOneOf{IfField: "mode", IfMatch: &kongschema.Field{OneOf: []any{"any"}},
			ThenAtLeastOneOf: []string{"url"}, ThenErr: "mode any: set url"}},
	)
}

// flat renders errors as POST /config's flattened_errors: "field|message"
// (an entity error has no field).
func flat(err error) []string {
	var ve *kongschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Flat()+"|"+f.Message)
	}
	sort.Strings(out)
	return out
}

func TestNormalizeRules(t *testing.T) {
	schema := kongschema.MustGenerate(ruled{})
	tests := []struct {
		name string
		cfg  string
		want []string // flattened errors; nil: accepted
	}{
		{"defaults", `{"file":"x"}`, nil},
		{"one_of, between, array len_min", `{"mode":"bogus","n":11,"names":[],"file":"x"}`,
			[]string{"config.mode|expected one of: all, any", "config.names|length must be at least 1", "config.n|value should be between 0 and 10"}},
		{"an empty element", `{"names":[""],"file":"x"}`, []string{"config.names.1|length must be at least 1"}},
		{"len_min 0, at_least_one_of", `{"empty_ok":"","file":""}`, []string{"|at least one of these fields must be non-empty: 'creds', 'file'"}},
		{"conditional", `{"file":"x","max_failures":3}`,
			[]string{"config.lockout_seconds|value must be greater than 0", "|failed conditional validation given value of field 'max_failures'"}},
		{"conditional satisfied", `{"file":"x","max_failures":3,"lockout_seconds":60}`, nil},
		{"records in an array", `{"creds":[{"id":"a\u0001b","hash":"sha256:zz"},{"hash":"hunter2"}]}`,
			[]string{"config.creds.1.hash|must be sha256:<hex>", "config.creds.1.id|must not contain control characters", "config.creds.2.hash|must be sha256:<hex>", "config.creds.2.id|required field missing"}},
		{"a map: one error", `{"file":"x","hdrs":{"sub":"Bad Header"}}`, []string{"config.hdrs|not a header name"}},
		{"a map value: len_min 1", `{"file":"x","hdrs":{"x":""}}`, []string{"config.hdrs|length must be at least 1"}},
		{"a reference is not validated", `{"file":"x","secret":"{vault://env/authkit-test-secret}"}`, nil},
		{"null keeps null", `{"file":"x","n":null}`, nil},
		// An entity check's if_field is required (Generate insists): Kong
		// would run the check on null as if it matched.
		{"null if_field", `{"file":"x","mode":null}`, []string{"config.mode|required field missing"}},
		{"conditional replaces the then_field's error", `{"file":"x","max_failures":3,"lockout_seconds":-1}`,
			[]string{"config.lockout_seconds|value must be greater than 0", "|failed conditional validation given value of field 'max_failures'"}},
		{"match_any", `{"file":"x","url":"ftp://x"}`, []string{"config.url|must be an absolute http(s) URL"}},
		{"match_any empty", `{"file":"x","url":""}`, nil},
		{"conditional_at_least_one_of", `{"file":"x","mode":"any"}`, []string{"|mode any: set url"}},
		{"unknown field", `{"file":"x","zz":1}`, []string{"config.zz|unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg map[string]any
			if err := json.Unmarshal([]byte(tt.cfg), &cfg); err != nil {
				t.Fatal(err)
			}
			_, err := schema.Normalize(cfg)
			if got := flat(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	out, err := schema.Normalize(map[string]any{"file": "x", "empty_ok": nil})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(out)
	want := `{"creds":[],"empty_ok":null,"file":"x","hdrs":{},"lockout_seconds":0,"max_failures":0,"mode":"all","n":5,"names":["apikey"],"secret":"","url":""}`
	if string(js) != want {
		t.Errorf("normalized\n got %s\nwant %s", js, want)
	}
}

// Checked: the Go side of the same rules, on a struct, where a
// non-pointer zero value is unset.
func TestChecked(t *testing.T) {
	ok, err := kongschema.Checked(&ruled{File: "x"})
	if err != nil || *ok.Mode != "all" || *ok.N != 5 || ok.Names[0] != "apikey" {
		t.Fatalf("%+v %v", ok, err)
	}
	_, err = kongschema.Checked(&ruled{File: "x", Mode: kongschema.Ptr(""), Max: 3, Creds: []ruledCred{{Hash: "sha256:00"}}})
	var ce *kongschema.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err %T %v", err, err)
	}
	want := "creds[0].id: required field missing\nlockout_seconds: value must be greater than 0\nmode: expected one of: all, any\nfailed conditional validation given value of field 'max_failures'"
	if err.Error() != want {
		t.Errorf("errors\n%s\nwant\n%s", err, want)
	}
	if err := kongschema.CheckZeroValues(ruled{}); err != nil {
		t.Error(err)
	}
	type bad struct {
		Level string `json:"level" default:"notice" one_of:"notice,info"`
		Name  string `json:"name"`
	}
	err = kongschema.CheckZeroValues(bad{})
	if err == nil || !strings.Contains(err.Error(), "level: the zero value") || !strings.Contains(err.Error(), "name: Kong refuses the zero value") {
		t.Errorf("CheckZeroValues(bad): %v", err)
	}
}

func TestResolveEnvVault(t *testing.T) {
	schema := kongschema.MustGenerate(ruled{})
	out, err := schema.Normalize(map[string]any{"file": "x", "secret": "{vault://env/authkit-test-secret}"})
	if err != nil {
		t.Fatal(err)
	}
	failed := schema.Resolve(out, kongschema.EnvVault(map[string]string{"AUTHKIT_TEST_SECRET": "s3cret"}))
	if out["secret"] != "s3cret" || failed != nil {
		t.Fatalf("resolved %v, failed %v", out["secret"], failed)
	}
	if refs, _ := out["$refs"].(map[string]any); refs["secret"] != "{vault://env/authkit-test-secret}" {
		t.Errorf("$refs: %v", out["$refs"])
	}
	out, _ = schema.Normalize(map[string]any{"file": "x", "secret": "{vault://env/missing}"})
	if failed := schema.Resolve(out, kongschema.EnvVault(nil)); out["secret"] != "" || len(failed) != 1 {
		t.Fatalf("unresolvable: %v %v", out["secret"], failed)
	}
}

func TestGenerateTagErrors(t *testing.T) {
	for _, v := range []any{
		struct {
			A int `json:"a" between:"5"`
		}{},
		struct {
			A int `json:"a" between:"5,1"`
		}{},
		struct {
			A string `json:"a" len_min:"x"`
		}{},
		struct {
			A string `json:"a" match_none:"(x)"`
		}{},
		struct {
			A bool `json:"a" required:"maybe"`
		}{},
		struct {
			A int `json:"a" one_of:"1,two"`
		}{},
		struct {
			A *int `json:"a" default:"ten"`
		}{},
	} {
		if _, err := kongschema.Generate(v); err == nil {
			t.Errorf("%T: a bad tag was accepted", v)
		}
	}
}

// FuzzGenerateTags: any tag on a field generates a schema or an error,
// never a panic.
func FuzzGenerateTags(f *testing.F) {
	for _, s := range []string{`json:"a" one_of:"x,y"`, `json:"a" between:"0,10"`, `json:"a" match_any:"^$|^x" match_err:"e"`, `json:"a" elem_len_min:"1"`} {
		f.Add(s)
	}
	types := []reflect.Type{reflect.TypeOf(""), reflect.TypeOf(0), reflect.TypeOf([]string{}), reflect.TypeOf(map[string]string{}), reflect.TypeOf(new(bool))}
	f.Fuzz(func(t *testing.T, tag string) {
		for _, typ := range types {
			st := reflect.StructOf([]reflect.StructField{{Name: "A", Type: typ, Tag: reflect.StructTag(tag)}})
			schema, err := kongschema.Generate(reflect.New(st).Interface())
			if err != nil {
				continue
			}
			_, _ = schema.Normalize(map[string]any{"a": "x"})
		}
	})
}
