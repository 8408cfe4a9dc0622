package passwd

import (
	"errors"
	"strings"
	"testing"
)

func TestHashPBKDF2RoundTrip(t *testing.T) {
	for _, pw := range []string{"s3cret", "", strings.Repeat("x", 200)} {
		s, err := HashPBKDF2([]byte(pw), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, "$pbkdf2-sha256$i=1000$") {
			t.Fatalf("HashPBKDF2 = %q", s)
		}
		h, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if h.String() != s || h.Scheme() != SchemePBKDF2SHA256 {
			t.Errorf("String/Scheme = %q/%q", h.String(), h.Scheme())
		}
		if i, _ := h.PBKDF2Iterations(); i != 1000 {
			t.Errorf("iterations = %d", i)
		}
		if !h.Verify([]byte(pw)) {
			t.Errorf("Verify(%q) = false", pw)
		}
		if h.Verify([]byte(pw + "x")) {
			t.Errorf("Verify(%q+x) = true", pw)
		}
	}
}

func TestPBKDF2DialectPreserved(t *testing.T) {
	// passlib's ab64 uses '.' for '+'; String must keep that dialect.
	const passlib = "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"
	h := MustParse(passlib)
	if h.String() != passlib {
		t.Errorf("String() = %q", h.String())
	}
	// The same salt and key in PHC style verify identically.
	phc := "$pbkdf2-sha256$i=1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg+fJPeq1h/gXXY7acBp9/6c+tmQ"
	h2 := MustParse(phc)
	if h2.String() != phc || !h2.Verify([]byte("password")) {
		t.Errorf("PHC spelling of passlib vector: %q verify=%v", h2.String(), h2.Verify([]byte("password")))
	}
}

func TestHashPBKDF2Errors(t *testing.T) {
	for _, i := range []int{-1, 999, 10_000_001} {
		_, err := HashPBKDF2([]byte("pw"), i)
		var pe *ParamError
		if !errors.Is(err, ErrBounds) || !errors.As(err, &pe) || pe.Param != "i" {
			t.Errorf("iterations %d: err = %v", i, err)
		}
	}
}
