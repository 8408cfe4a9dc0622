package pluginreg

import (
	"reflect"
	"slices"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

func TestEveryPluginCompilesItsZeroConfigOrSaysWhy(t *testing.T) {
	if len(Names()) != 4 {
		t.Fatalf("plugins %v", Names())
	}
	for _, n := range Names() {
		if err := CompileJSON(n, []byte(`{}`)); n != "authkit-oauth-explain" && err == nil {
			t.Errorf("%s: an empty config must be refused (it authenticates nobody)", n)
		}
	}
	if err := CompileJSON("authkit-nope", []byte(`{}`)); err == nil {
		t.Error("unknown plugin accepted")
	}
	if err := CompileJSON("authkit-basic", []byte(`{"realm":1}`)); err == nil {
		t.Error("mistyped JSON accepted")
	}
}

// FuzzCompileJSON feeds arbitrary config JSON, as Kong sends it, to every
// plugin's compile code: errors are fine, panics are not.
func FuzzCompileJSON(f *testing.F) {
	for _, s := range []string{
		`{"credentials":[{"username":"a","password_hash":"$2a$04$abcdefghijklmnopqrstuu5XJ0SvHg7pMKXN9oM8pZ3kqVdOa0vC6","consumer":"c"}]}`,
		`{"key_names":[],"credentials":[{"id":"x","consumer":"c","key_hash":"sha256:00"}]}`,
		`{"issuer":"https://i.example","static_jwks":"{\"keys\":[]}","allowed_algorithms":["HS256"],"leeway_seconds":-5}`,
		`{"allowed_redirect_uris":["https://a/cb#f"],"enforce":true}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cfg string) {
		for _, n := range Names() {
			_ = CompileJSON(n, []byte(cfg))
		}
	})
}

// Authenticates says what the config compiles to: a gateway.Compiled (an
// Authenticator with its Policy) or not.
func TestAuthenticatesMatchesCompile(t *testing.T) {
	compiled := reflect.TypeOf((*gateway.Compiled)(nil)).Elem()
	for _, n := range Names() {
		p, _ := Lookup(n)
		m, ok := reflect.TypeOf(p.New()).MethodByName("Compile")
		if !ok {
			t.Fatalf("%s: the config has no Compile method", n)
		}
		if got := m.Type.Out(0).Implements(compiled); got != p.Authenticates {
			t.Errorf("%s: Authenticates %v, but Compile returns %s", n, p.Authenticates, m.Type.Out(0))
		}
	}
}

// Each plugin's Kong schema generates, and Go's zero values mean what
// Kong's unset means (kongschema.Checked depends on it).
func TestSchemasAndZeroValues(t *testing.T) {
	for _, n := range Names() {
		p, _ := Lookup(n)
		if _, err := kongschema.Generate(p.New()); err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if err := kongschema.CheckZeroValues(p.New()); err != nil {
			t.Errorf("%s:\n%v", n, err)
		}
	}
}

// log_level's one_of is Kong's log levels in every plugin.
func TestLogLevelsAgree(t *testing.T) {
	for _, n := range Names() {
		p, _ := Lookup(n)
		f := kongschema.MustGenerate(p.New()).Lookup("log_level")
		var got []string
		for _, v := range f.OneOf {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, gateway.LogLevels) {
			t.Errorf("%s: log_level one_of %v, want %v", n, got, gateway.LogLevels)
		}
	}
}
