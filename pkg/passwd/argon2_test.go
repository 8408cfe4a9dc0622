package passwd

import (
	"errors"
	"strings"
	"testing"
)

// Cheap parameters for unit tests (the known vectors use m=256, t=2).
var testArgon2Params = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashArgon2idRoundTrip(t *testing.T) {
	for _, p := range []Argon2Params{
		testArgon2Params,
		{Memory: 64, Time: 1, Threads: 4, SaltLen: 8, KeyLen: 16},
		{Memory: 72, Time: 2, Threads: 2, SaltLen: 64, KeyLen: 64},
	} {
		for _, pw := range []string{"s3cret", "", strings.Repeat("long passphrase ", 20)} {
			s, err := HashArgon2id([]byte(pw), p)
			if err != nil {
				t.Fatalf("HashArgon2id(%+v): %v", p, err)
			}
			if !strings.HasPrefix(s, "$argon2id$v=19$m=") || strings.Contains(s, "=$") || strings.HasSuffix(s, "=") {
				t.Fatalf("HashArgon2id = %q: not an unpadded PHC string", s)
			}
			h, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			if h.String() != s || h.Scheme() != SchemeArgon2id {
				t.Errorf("String/Scheme = %q/%q", h.String(), h.Scheme())
			}
			if got, _ := h.Argon2Params(); got != p {
				t.Errorf("Argon2Params() = %+v, want %+v", got, p)
			}
			if !h.Verify([]byte(pw)) {
				t.Errorf("Verify(%q) = false", pw)
			}
			if h.Verify([]byte(pw + "x")) {
				t.Errorf("Verify(%q+x) = true", pw)
			}
		}
	}
}

func TestDefaultArgon2Params(t *testing.T) {
	// OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
	want := Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if DefaultArgon2Params != want {
		t.Errorf("DefaultArgon2Params = %+v", DefaultArgon2Params)
	}
	if err := DefaultArgon2Params.Validate(); err != nil {
		t.Error(err)
	}
}

func TestHashArgon2idErrors(t *testing.T) {
	for _, tt := range []struct {
		p     Argon2Params
		param string
	}{
		{Argon2Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, "t"},
		{Argon2Params{Memory: 64, Time: 11, Threads: 1, SaltLen: 16, KeyLen: 32}, "t"},
		{Argon2Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}, "p"},
		{Argon2Params{Memory: 1024, Time: 1, Threads: 65, SaltLen: 16, KeyLen: 32}, "p"},
		{Argon2Params{Memory: 7, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, "m"},
		{Argon2Params{Memory: 31, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}, "m"},
		{Argon2Params{Memory: MaxArgon2Memory + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, "m"},
		{Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32}, "salt length"},
		{Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 65, KeyLen: 32}, "salt length"},
		{Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 15}, "key length"},
		{Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 65}, "key length"},
	} {
		_, err := HashArgon2id([]byte("pw"), tt.p)
		var pe *ParamError
		if !errors.Is(err, ErrBounds) || !errors.As(err, &pe) || pe.Param != tt.param {
			t.Errorf("%+v: err = %v, want ErrBounds on %s", tt.p, err, tt.param)
		}
	}
}
