package passwd

import (
	"strings"
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

// TestFakeForMostExpensive (issue 11, item 5): the fake for a user list
// imitates the most expensive parameter set, whatever the list's order.
func TestFakeForMostExpensive(t *testing.T) {
	b4, _ := HashBcrypt([]byte("pw"), 4)
	b6, _ := HashBcrypt([]byte("pw"), 6)
	a2, _ := HashArgon2id([]byte("pw"), Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	pb, _ := HashPBKDF2([]byte("pw"), 1000)
	hashes := []*Hash{MustParse(b4), MustParse(a2), MustParse(b6), MustParse(pb)}
	want := Fake(MustParse(b6)) // 2^6 × 69 µs ≈ 4.4 ms beats the others
	for i := range hashes {
		rot := append(append([]*Hash{}, hashes[i:]...), hashes[:i]...)
		if got := FakeFor(rot); got != want {
			t.Fatalf("order %d: fake %s, want %s", i, got.Params(), want.Params())
		}
	}
	if FakeFor(nil) != DefaultFake() {
		t.Fatal("no hashes: DefaultFake")
	}
	desc, mixed := MixedCosts(hashes)
	if !mixed || !strings.HasPrefix(desc, "bcrypt cost 6") || !strings.Contains(desc, "argon2id m=64,t=1,p=1") {
		t.Fatalf("MixedCosts = %q %v", desc, mixed)
	}
	if _, mixed := MixedCosts([]*Hash{MustParse(b4), MustParse(b4)}); mixed {
		t.Fatal("one parameter set is not mixed")
	}
	// The model's order matches the measured one for the defaults:
	// PBKDF2 600k > bcrypt 10 > argon2id OWASP.
	p, _ := HashPBKDF2([]byte("pw"), DefaultPBKDF2Iterations)
	bc := &Hash{v: &bcryptHash{cost: 10}}
	ar := &Hash{v: &argon2Hash{params: DefaultArgon2Params}}
	if !(MustParse(p).EstimatedCost() > bc.EstimatedCost() && bc.EstimatedCost() > ar.EstimatedCost()) {
		t.Fatal("cost model order")
	}
}
