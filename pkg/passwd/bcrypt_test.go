package passwd

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestHashBcryptRoundTrip(t *testing.T) {
	for _, pw := range [][]byte{
		[]byte("s3cret"),
		{},
		[]byte("päss wörd \x00 with nul"),
		bytes.Repeat([]byte("a"), MaxBcryptPasswordLen),
	} {
		s, err := HashBcrypt(pw, 4)
		if err != nil {
			t.Fatalf("HashBcrypt: %v", err)
		}
		if !strings.HasPrefix(s, "$2a$04$") || len(s) != 60 {
			t.Fatalf("HashBcrypt = %q", s)
		}
		h, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(HashBcrypt()): %v", err)
		}
		if h.Scheme() != SchemeBcrypt || h.String() != s {
			t.Errorf("Scheme/String = %q/%q", h.Scheme(), h.String())
		}
		if c, _ := h.BcryptCost(); c != 4 {
			t.Errorf("cost = %d", c)
		}
		if !h.Verify(pw) {
			t.Errorf("Verify(%q) = false", pw)
		}
		if h.Verify(append(bytes.Clone(pw), 'x')) {
			t.Errorf("Verify(%q+x) = true", pw)
		}
	}
}

func TestHashBcryptSaltIsRandom(t *testing.T) {
	a, _ := HashBcrypt([]byte("pw"), 4)
	b, _ := HashBcrypt([]byte("pw"), 4)
	if a == b {
		t.Error("two hashes of the same password are identical")
	}
}

func TestHashBcryptErrors(t *testing.T) {
	if _, err := HashBcrypt(bytes.Repeat([]byte("a"), 73), 4); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("73-byte password: err = %v, want ErrPasswordTooLong", err)
	}
	for _, cost := range []int{-1, 1, 3, 32} {
		_, err := HashBcrypt([]byte("pw"), cost)
		var pe *ParamError
		if !errors.Is(err, ErrBounds) || !errors.As(err, &pe) || pe.Param != "cost" {
			t.Errorf("cost %d: err = %v, want ErrBounds on cost", cost, err)
		}
	}
}

// bcrypt only looks at 72 bytes; x/crypto v0.59.0's CompareHashAndPassword
// silently ignores the rest. Verify must refuse longer passwords instead of
// accepting "<72 right bytes><anything>", and must not panic.
func TestBcryptVerifyLongPassword(t *testing.T) {
	h := MustParse("$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui")
	pw72 := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	if len(pw72) != 72 {
		t.Fatal("test vector is not 72 bytes")
	}
	if !h.Verify(pw72) {
		t.Fatal("72-byte password does not verify")
	}
	// The Openwall vector's full password: bcrypt itself would accept it.
	long := append(bytes.Clone(pw72), []byte("chars after 72 are ignored")...)
	if h.Verify(long) {
		t.Error("Verify accepted a >72-byte password whose prefix matches")
	}
	if h.Verify(bytes.Repeat([]byte("x"), 1<<16)) {
		t.Error("Verify accepted a 64 KiB password")
	}
}
