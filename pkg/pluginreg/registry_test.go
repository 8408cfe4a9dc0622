package pluginreg

import (
	"testing"
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
