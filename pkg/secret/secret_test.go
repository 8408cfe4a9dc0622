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
	if !Equal([]byte("k"), []byte("k")) || Equal([]byte("k"), []byte("K")) || Equal([]byte("k"), []byte("kk")) {
		t.Fatal("Equal")
	}
}

func TestKeyIsLengthPrefixed(t *testing.T) {
	if Key("ab", "c") == Key("a", "bc") || Key("a", "") == Key("a") || Key("") == Key() {
		t.Fatal("fields collide by concatenation")
	}
	if Key("user", "pw") != Key("user", "pw") {
		t.Fatal("not deterministic")
	}
}
