package kongschema

import (
	"regexp"
	"testing"
)

func TestLuaPattern(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"%c", []string{"a\x01b", "\x7f", "x\ny"}, []string{"abc", "é", ""}},
		{"[ :\r\n]", []string{"a b", "a:b", "a\rb", "\n"}, []string{"ab", "a\tb"}},
		{"^sha256:%x+$", []string{"sha256:00ff", "sha256:ABCdef"}, []string{"sha256:", "sha256:zz", "xsha256:00", "sha256:00\n"}},
		{"^[Hh][Oo][Ss][Tt]$", []string{"host", "HOST", "Host"}, []string{"hosts", "ghost", "hoSt "}},
		{"^https?://", []string{"https://a", "http://a"}, []string{"ftp://a", "httpss://", " https://a"}},
		{"a-b", []string{"ab", "axxb"}, []string{"a"}},
		{"^%d%d?$", []string{"1", "42"}, []string{"123", "a"}},
		{"[%w_%-]", []string{"a", "_", "-"}, []string{" ", "."}},
		{"[^%s]", []string{" a "}, []string{"   ", ""}},
		{"%.", []string{"a.b"}, []string{"ab"}},
		{"%S", []string{" x"}, []string{" \t"}},
		{"[]]", []string{"]"}, []string{"["}},
		{"[^]]", []string{"a"}, []string{"]"}},
		{"a$b", []string{"a$b"}, []string{"ab"}},
	}
	for _, tt := range tests {
		for _, s := range tt.match {
			if ok, err := luaMatch(tt.pattern, s); err != nil || !ok {
				t.Errorf("%q must match %q (%v)", tt.pattern, s, err)
			}
		}
		for _, s := range tt.noMatch {
			if ok, err := luaMatch(tt.pattern, s); err != nil || ok {
				t.Errorf("%q must not match %q (%v)", tt.pattern, s, err)
			}
		}
	}
	for _, bad := range []string{"(a)", "%b()", "%f[%w]", "%1", "[a", "a%", "[%S]", "%q"} {
		if _, err := LuaPattern(bad); err == nil {
			t.Errorf("%q: unsupported pattern accepted", bad)
		}
	}
}

// FuzzLuaPattern: every pattern it accepts translates to an expression
// that compiles; none panics.
func FuzzLuaPattern(f *testing.F) {
	for _, s := range []string{"%c", "^sha256:%x+$", "[ :\r\n]", "[^%s]-x", "[]%]]", "^$"} {
		f.Add(s, "some value")
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		expr, err := LuaPattern(p)
		if err != nil {
			return
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			t.Fatalf("%q → %q does not compile: %v", p, expr, err)
		}
		_ = re.MatchString(s)
	})
}
