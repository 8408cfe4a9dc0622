package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestParamValues(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []string
	}{
		{"plain", "a=1&t=x&b=2", []string{"x"}},
		{"absent", "a=1", nil},
		{"empty", "", nil},
		{"repeated", "t=x&t=y", []string{"x", "y"}},
		{"escaped name", "%74=x", []string{"x"}},
		{"plus is space", "t=a+b", []string{"a b"}},
		{"bad escape in the value", "t=x&t=%zz", []string{"x", "%zz"}},
		{"bad escape in a neighbour", "x=%zz&t=x", []string{"x"}},
		{"truncated escape", "t=ab%4", []string{"ab%4"}},
		{"no equals sign", "t&a=1", []string{""}},
		{"semicolon in the value", "t=x;y=1", []string{"x;y=1"}},
		{"name behind a semicolon", "a=1;t=x", []string{"a=1;t=x"}},
		{"empty parts", "&&t=x&&", []string{"x"}},
		{"name with a bad escape", "t%zz=x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParamValues(tt.raw, "t"); !slices.Equal(got, tt.want) {
				t.Fatalf("ParamValues(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			if left := ParamValues(StripQueryParam(tt.raw, "t"), "t"); left != nil {
				t.Fatalf("strip left %q", left)
			}
		})
	}
}

func TestStripQueryParamKeepsTheRest(t *testing.T) {
	for raw, want := range map[string]string{
		"a=1&t=k&b=%20x&t=j": "a=1&b=%20x",
		"t=k":                "",
		"x=%zz&t=k&y=1":      "x=%zz&y=1",
		"x=1;t=k&y=2":        "y=2",
		"a=1&&t=k":           "a=1&",
		"t%3D=k&t=k":         "t%3D=k",
	} {
		if got := StripQueryParam(raw, "t"); got != want {
			t.Errorf("StripQueryParam(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestCookies(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []string
		left    string
	}{
		{"plain", []string{"a=1; at=x; b=2"}, []string{"x"}, "a=1; b=2"},
		{"space before =", []string{"theme=dark; at =x"}, []string{"x"}, "theme=dark"},
		{"space after =", []string{"at= x ;theme=dark"}, []string{"x"}, "theme=dark"},
		{"tab", []string{"at\t=x"}, []string{"x"}, ""},
		{"quoted", []string{`at="x"; a=1`}, []string{"x"}, "a=1"},
		{"value net/http rejects", []string{`at=x; at="y`}, []string{"x", `"y`}, ""},
		{"two header lines", []string{"at=x", "a=1; at=y"}, []string{"x", "y"}, "a=1"},
		{"other name", []string{"att=x; a t=y"}, nil, "att=x; a t=y"},
		{"no equals sign", []string{"at; a=1"}, []string{""}, "a=1"},
		{"empty parts", []string{";; at=x ;"}, []string{"x"}, ""},
		{"none", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CookieValues(tt.headers, "at"); !slices.Equal(got, tt.want) {
				t.Fatalf("CookieValues(%q) = %q, want %q", tt.headers, got, tt.want)
			}
			if got := StripCookie(tt.headers, "at"); got != tt.left {
				t.Fatalf("StripCookie(%q) = %q, want %q", tt.headers, got, tt.left)
			}
		})
	}
}

// FuzzParams: what StripQueryParam removes is exactly what ParamValues
// reads, the rest is kept byte for byte, and every value net/url decodes
// is one ParamValues decodes the same way.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"a=1&t=x", "t=%zz&t=x", "x=1;t=2", "t", "%74=a+b&&t=%4", "t=x&t=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals := ParamValues(raw, "t")
		stripped := StripQueryParam(raw, "t")
		if left := ParamValues(stripped, "t"); left != nil {
			t.Fatalf("strip left %q in %q", left, stripped)
		}
		var kept []string
		for _, p := range ParseParams(raw) {
			if !p.Carries("t") {
				kept = append(kept, p.Raw)
			}
		}
		var after []string
		for _, p := range ParseParams(stripped) {
			after = append(after, p.Raw)
		}
		if !slices.Equal(kept, after) {
			t.Fatalf("strip changed the other parts: %q → %q", kept, after)
		}
		if q, err := url.ParseQuery(raw); err == nil {
			if got := q["t"]; len(got) != len(vals) || len(got) > 0 && !slices.Equal(got, vals) {
				t.Fatalf("net/url reads %q, ParamValues %q", got, vals)
			}
		} else if n := len(q["t"]); n > len(vals) {
			t.Fatalf("net/url finds %d values, ParamValues %d", n, len(vals))
		}
	})
}

// FuzzCookies: StripCookie removes every value CookieValues reads, and
// CookieValues never finds fewer token cookies than net/http does.
func FuzzCookies(f *testing.F) {
	for _, s := range []string{"a=1; at=x", "at =x", `at="x"; at="y`, "at\t= x ;;", "a t=1"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, h1, h2 string) {
		headers := []string{h1}
		if h2 != "" {
			headers = append(headers, h2)
		}
		vals := CookieValues(headers, "at")
		if left := CookieValues([]string{StripCookie(headers, "at")}, "at"); left != nil {
			t.Fatalf("strip left %q", left)
		}
		std := 0
		for _, c := range (&http.Request{Header: http.Header{"Cookie": headers}}).Cookies() {
			if c.Name == "at" {
				std++
			}
		}
		if std > len(vals) {
			t.Fatalf("net/http finds %d token cookies in %q, CookieValues %d", std, headers, len(vals))
		}
	})
}

func ExampleStripCookie() {
	h := []string{"theme=dark; at =tok"}
	fmt.Println(CookieValues(h, "at"), strings.TrimSpace(StripCookie(h, "at")))
	// Output: [tok] theme=dark
}

func ExampleParamValues() {
	// A bad escape in a neighbour hides nothing; one in a value still counts.
	fmt.Println(ParamValues("x=%zz&access_token=a&access_token=%zz", "access_token"))
	// Output: [a %zz]
}

func BenchmarkParamValues(b *testing.B) {
	q := "page=2&sort=desc&filter=a%20b&apikey=k_0123456789abcdef&lang=en"
	b.ReportAllocs()
	for b.Loop() {
		if len(ParamValues(q, "apikey")) != 1 {
			b.Fatal("not found")
		}
	}
}
