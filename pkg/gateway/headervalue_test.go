package gateway

import (
	"fmt"
	"testing"
	"unicode/utf8"
)

func TestHeaderValue(t *testing.T) {
	for v, want := range map[string]string{
		"":                   "",
		"alice":              "alice",
		"a b\tc":             "a b\tc",
		"café":               "café",
		"jti-1\r\nX-Evil: 1": "",
		"alice\r":            "",
		"a\nb":               "",
		"a\x00b":             "",
		"a\x01b":             "",
		"a\x7fb":             "",
		"a\xffb":             "",
		"\xc3":               "",
		"%0D%0A":             "%0D%0A",
	} {
		if got := HeaderValue(v); got != want {
			t.Errorf("HeaderValue(%q) = %q, want %q", v, got, want)
		}
	}
}

func FuzzHeaderValue(f *testing.F) {
	for _, s := range []string{"alice", "a\r\nb", "a\xffb", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := HeaderValue(v)
		if got != "" && got != v {
			t.Fatalf("%q altered to %q", v, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 kept: %q", got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("control character kept in %q", got)
			}
		}
	})
}

func ExampleHeaderValue() {
	fmt.Printf("%q %q\n", HeaderValue("jti-42"), HeaderValue("jti-42\r\nX-Admin: true"))
	// Output: "jti-42" ""
}
