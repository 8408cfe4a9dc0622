package passwd

import (
	"sync"
	"testing"
)

func TestFakeSameSchemeAndParams(t *testing.T) {
	bc, _ := HashBcrypt([]byte("pw"), 5)
	a2, _ := HashArgon2id([]byte("pw"), Argon2Params{Memory: 96, Time: 3, Threads: 2, SaltLen: 12, KeyLen: 24})
	pb, _ := HashPBKDF2([]byte("pw"), 1234)
	inputs := []string{
		bc, a2, pb,
		"$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
		"$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
	}
	for _, s := range inputs {
		real := MustParse(s)
		f := Fake(real)
		if f == nil || !f.IsFake() || real.IsFake() {
			t.Fatalf("%s: Fake = %v", s, f)
		}
		if f.Scheme() != real.Scheme() {
			t.Errorf("%s: fake scheme %q", s, f.Scheme())
		}
		if a, b := params(real), params(f); a != b {
			t.Errorf("%s: fake params %v, want %v", s, b, a)
		}
		if f.String() == real.String() {
			t.Errorf("%s: fake is a copy of the real hash", s)
		}
		// The fake is itself a well-formed hash with the same parameters,
		// which is what makes its verification cost the same.
		re, err := Parse(f.String())
		if err != nil {
			t.Fatalf("fake %q does not parse: %v", f.String(), err)
		}
		if params(re) != params(real) {
			t.Errorf("re-parsed fake params %v", params(re))
		}
		if f.Verify([]byte("pw")) || f.Verify(nil) {
			t.Errorf("%s: fake verified", s)
		}
		if Fake(real) != f || Fake(MustParse(s)) != f {
			t.Errorf("%s: Fake not cached per parameter set", s)
		}
	}
}

func TestFakeForcedFalse(t *testing.T) {
	// Even a fake whose key happens to match (impossible in practice) must
	// answer false.
	h := MustParse(knownVectors[0].hash)
	f := &Hash{v: h.v, fake: true}
	if f.Verify([]byte(knownVectors[0].password)) {
		t.Error("fake Hash verified")
	}
}

func TestDefaultFake(t *testing.T) {
	d := DefaultFake()
	if d.Scheme() != SchemeBcrypt || !d.IsFake() {
		t.Fatalf("DefaultFake = %v", d)
	}
	if c, _ := d.BcryptCost(); c != 10 {
		t.Errorf("DefaultFake cost = %d, want 10", c)
	}
	if DefaultFake() != d || Fake(nil) != d || Fake(&Hash{}) != d {
		t.Error("DefaultFake not stable")
	}
	if _, err := Parse(d.String()); err != nil {
		t.Errorf("DefaultFake does not parse: %v", err)
	}
}

func TestFakeConcurrent(t *testing.T) {
	s, _ := HashPBKDF2([]byte("pw"), 1001)
	h := MustParse(s)
	const n = 16
	got := make([]*Hash, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = Fake(h)
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatal("concurrent Fake calls returned different hashes")
		}
	}
}

type paramSet struct {
	scheme string
	cost   int
	a2     Argon2Params
	iter   int
	salt   int
	key    int
}

func params(h *Hash) paramSet {
	p := paramSet{scheme: h.Scheme()}
	p.cost, _ = h.BcryptCost()
	p.a2, _ = h.Argon2Params()
	p.iter, _ = h.PBKDF2Iterations()
	if v, ok := h.v.(*pbkdf2Hash); ok {
		p.salt, p.key = len(v.salt), len(v.key)
		if v.passlib {
			p.scheme += "/passlib"
		}
	}
	return p
}
