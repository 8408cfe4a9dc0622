package secret

import "testing"

func TestFingerprint(t *testing.T) {
	// SHA-256("abc") = ba7816bf…
	if got := Fingerprint("abc"); got != "ba7816bf" {
		t.Fatalf("Fingerprint(abc) = %s", got)
	}
	if Fingerprint("a") == Fingerprint("b") {
		t.Fatal("distinct inputs, equal fingerprints")
	}
}

func TestEqual(t *testing.T) {
	if !EqualString("k", "k") || EqualString("k", "K") || EqualString("k", "kk") {
		t.Fatal("EqualString")
	}
}
