package dpop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary proofs to the parser: it must never panic, and
// whatever it accepts must carry a key, a thumbprint and every required
// claim.
func FuzzParse(f *testing.F) {
	now := time.Now()
	for _, k := range []*testKey{newES256(f), newRS256(f), newEdDSA(f)} {
		p := k.proof(f, claims(testReq, now))
		f.Add(p)
		parts := strings.Split(p, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + ".." + parts[2])
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.AA", strings.Repeat(".", 100)} {
		f.Add(s)
	}
	algs, allowed, err := compileAlgorithms("algs", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := parse(proof, algs, allowed)
		if err != nil {
			return
		}
		if p.Key == nil || p.Thumbprint == "" || p.JTI == "" || p.HTM == "" || p.HTU == "" {
			t.Fatalf("accepted an incomplete proof: %+v", p)
		}
	})
}

// FuzzNormalizeURI: normalising is idempotent.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{"https://h/a/../b", "http://H:80/%7e?x#y", "https://[::1]:1/./", "https://h/%zz/%2f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeURI(s)
		if err != nil {
			return
		}
		if m, err := NormalizeURI(n); err != nil || m != n {
			t.Fatalf("%q → %q → %q, %v", s, n, m, err)
		}
	})
}

// ExampleTokenHash shows the ath of an access token (RFC 9449 §4.2).
func ExampleTokenHash() {
	fmt.Println(TokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))
	// Output: fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo
}
