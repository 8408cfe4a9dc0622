package passwd

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics, every error wraps exactly one sentinel, and
// a parsed hash's String() parses back to an identical Hash.
//
//	go test -run '^$' -fuzz FuzzParse ./pkg/passwd/
func FuzzParse(f *testing.F) {
	for _, v := range knownVectors {
		f.Add(v.hash)
	}
	for _, s := range []string{
		"", "$", "$$", "plain", "{SHA}abc", "$1$a$b", "$2a$", "$2y$31$",
		"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$c29tZXNhbHQ",
		"$argon2id$v=19$m=4294967295,t=2,p=255$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$pbkdf2-sha256$i=600000$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$pbkdf2-sha256$600000$c29tZXNhbHQ$nf65EOgLrQMR.uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4==",
	} {
		f.Add(s)
	}
	sentinels := []error{ErrPlaintext, ErrUnsupported, ErrMalformed, ErrBounds}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			n := 0
			for _, e := range sentinels {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 || h != nil {
				t.Fatalf("Parse(%q): err %v matches %d sentinels, h=%v", s, err, n, h)
			}
			return
		}
		enc := h.String()
		h2, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(%q) ok but String() %q does not re-parse: %v", s, enc, err)
		}
		if !reflect.DeepEqual(h, h2) || h2.String() != enc || h2.Scheme() != h.Scheme() {
			t.Fatalf("round trip mismatch: %q -> %q -> %q", s, enc, h2.String())
		}
	})
}
