package passwd

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestKnownVectors(t *testing.T) {
	for _, v := range knownVectors {
		t.Run(v.name, func(t *testing.T) {
			h, err := Parse(v.hash)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := h.Scheme(); got != v.scheme {
				t.Errorf("Scheme() = %q, want %q", got, v.scheme)
			}
			if !h.Verify([]byte(v.password)) {
				t.Errorf("Verify(correct password) = false")
			}
			if h.Verify([]byte(v.password + "x")) {
				t.Errorf("Verify(password+\"x\") = true")
			}
			if len(v.password) > 0 && h.Verify([]byte(v.password[:len(v.password)-1])) {
				t.Errorf("Verify(truncated password) = true")
			}
			if h.IsFake() {
				t.Errorf("IsFake() = true for a parsed hash")
			}
		})
	}
}

func TestStringCanonical(t *testing.T) {
	for _, v := range knownVectors {
		h := MustParse(v.hash)
		s := h.String()
		// Canonical form drops base64 padding, nothing else.
		want := strings.TrimRight(strings.ReplaceAll(v.hash, "=$", "$"), "=")
		if s != want {
			t.Errorf("%s: String() = %q, want %q", v.name, s, want)
		}
		h2 := MustParse(s)
		if !reflect.DeepEqual(h, h2) {
			t.Errorf("%s: re-parsed String() differs", v.name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const (
		goodSalt = "c29tZXNhbHQ"                                 // 8 bytes
		goodKey  = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" // 32 bytes
		bcSalt   = "CCCCCCCCCCCCCCCCCCCCC."
		bcSum    = "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
		ab64Salt = "4vjV83LKPjQzk31VI4E0Vw"
		ab64Key  = "hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"
	)
	a2 := func(params string) string { return "$argon2id$v=19$" + params + "$" + goodSalt + "$" + goodKey }
	a2sk := func(salt, key string) string { return "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key }
	pb := func(i string) string { return "$pbkdf2-sha256$" + i + "$" + goodSalt + "$" + goodKey }

	tests := []struct {
		name  string
		in    string
		want  error
		param string // for ErrBounds: expected ParamError.Param
	}{
		// Not hashes at all.
		{"empty", "", ErrPlaintext, ""},
		{"plaintext", "hunter2", ErrPlaintext, ""},
		{"ldap sha", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", ErrPlaintext, ""},
		{"leading space", " " + knownVectors[0].hash, ErrPlaintext, ""},
		{"des crypt", "rl0uE2f4cfGYs", ErrPlaintext, ""},

		// Unknown or refused schemes.
		{"md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", ErrUnsupported, ""},
		{"apr1", "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", ErrUnsupported, ""},
		{"sha512-crypt", "$6$rounds=5000$salt$hash", ErrUnsupported, ""},
		{"argon2i", "$argon2i$v=19$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrUnsupported, ""},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrUnsupported, ""},
		{"bcrypt 2x", "$2x$05$" + bcSalt + bcSum, ErrUnsupported, ""},
		{"bcrypt 2", "$2$05$" + bcSalt + bcSum, ErrUnsupported, ""},
		{"pbkdf2-sha1", "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI", ErrUnsupported, ""},
		{"pbkdf2-sha512", "$pbkdf2-sha512$1212$" + ab64Salt + "$" + ab64Key, ErrUnsupported, ""},
		{"argon2id v=16", "$argon2id$v=16$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrUnsupported, ""},
		{"argon2id no version", "$argon2id$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrUnsupported, ""},

		// Structure.
		{"dollar only", "$", ErrMalformed, ""},
		{"empty scheme", "$$abc", ErrMalformed, ""},
		{"scheme only", "$argon2id", ErrMalformed, ""},
		{"too long", "$argon2id$" + strings.Repeat("A", 600), ErrMalformed, ""},

		{"bcrypt short", "$2a$05$" + bcSalt + bcSum[1:], ErrMalformed, ""},
		{"bcrypt long", "$2b$05$" + bcSalt + bcSum + "A", ErrMalformed, ""},
		{"bcrypt trailing newline", "$2y$05$" + bcSalt + bcSum[1:] + "\n", ErrMalformed, ""},
		{"bcrypt cost not digits", "$2a$0x$" + bcSalt + bcSum, ErrMalformed, ""},
		{"bcrypt no dollar after cost", "$2a$05x" + bcSalt + bcSum, ErrMalformed, ""},
		{"bcrypt bad salt char", "$2a$05$" + "CCCCCCCCCCCCCCCCCCCC+." + bcSum, ErrMalformed, ""},
		{"bcrypt bad hash char", "$2a$05$" + bcSalt + "E5YPO9kmyuRGyh0XouQYb4YMJKvyOe=", ErrMalformed, ""},
		{"bcrypt cost 3", "$2a$03$" + bcSalt + bcSum, ErrBounds, "cost"},
		{"bcrypt cost 32", "$2a$32$" + bcSalt + bcSum, ErrBounds, "cost"},

		{"argon2id missing hash", "$argon2id$v=19$m=256,t=2,p=1$" + goodSalt, ErrMalformed, ""},
		{"argon2id extra field", a2("m=256,t=2,p=1") + "$x", ErrMalformed, ""},
		{"argon2id bad version key", "$argon2id$x=19$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrMalformed, ""},
		{"argon2id version not number", "$argon2id$v=1x$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrMalformed, ""},
		{"argon2id version leading zero", "$argon2id$v=019$m=256,t=2,p=1$" + goodSalt + "$" + goodKey, ErrMalformed, ""},
		{"argon2id param not kv", a2("m=256,t,p=1"), ErrMalformed, ""},
		{"argon2id unknown param", a2("m=256,t=2,p=1,x=1"), ErrMalformed, ""},
		{"argon2id keyid", a2("m=256,t=2,p=1,keyid=abc"), ErrMalformed, ""},
		{"argon2id duplicate", a2("m=256,m=256,t=2,p=1"), ErrMalformed, ""},
		{"argon2id missing p", a2("m=256,t=2"), ErrMalformed, ""},
		{"argon2id m not number", a2("m=abc,t=2,p=1"), ErrMalformed, ""},
		{"argon2id m negative", a2("m=-256,t=2,p=1"), ErrMalformed, ""},
		{"argon2id m plus", a2("m=+256,t=2,p=1"), ErrMalformed, ""},
		{"argon2id m leading zero", a2("m=0256,t=2,p=1"), ErrMalformed, ""},
		{"argon2id m huge digits", a2("m=99999999999999999999,t=2,p=1"), ErrMalformed, ""},
		{"argon2id empty params", a2(""), ErrMalformed, ""},
		{"argon2id salt not base64", a2sk("c29t*XNhbHQ", goodKey), ErrMalformed, ""},
		{"argon2id salt urlsafe", a2sk("c29t_XNhbHQ", goodKey), ErrMalformed, ""},
		{"argon2id salt empty", a2sk("", goodKey), ErrMalformed, ""},
		{"argon2id salt bad padding", a2sk("c29tZXNhbHQ==", goodKey), ErrMalformed, ""},
		{"argon2id salt trailing bits", a2sk("c29tZXNhbHR", goodKey), ErrMalformed, ""},
		{"argon2id hash not base64", a2sk(goodSalt, "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/!"), ErrMalformed, ""},
		{"argon2id hash newline", a2sk(goodSalt, "nf65EOgLrQMR/uIPnA4rEsF5h7\nTKyQwu9U1bMCHGi/4"), ErrMalformed, ""},
		{"argon2id m too big", a2("m=1048577,t=2,p=1"), ErrBounds, "m"},
		{"argon2id m 4GiB", a2("m=4194304,t=2,p=1"), ErrBounds, "m"},
		{"argon2id m too small", a2("m=7,t=2,p=1"), ErrBounds, "m"},
		{"argon2id m below 8p", a2("m=16,t=2,p=4"), ErrBounds, "m"},
		{"argon2id t zero", a2("m=256,t=0,p=1"), ErrBounds, "t"},
		{"argon2id t too big", a2("m=256,t=11,p=1"), ErrBounds, "t"},
		{"argon2id p zero", a2("m=256,t=2,p=0"), ErrBounds, "p"},
		{"argon2id p too big", a2("m=65536,t=2,p=65"), ErrBounds, "p"},
		{"argon2id p overflows uint8", a2("m=65536,t=2,p=257"), ErrBounds, "p"},
		{"argon2id salt too short", a2sk("c29tZQ", goodKey), ErrBounds, "salt length"},
		{"argon2id salt too long", a2sk(encodeB64(make([]byte, 65)), goodKey), ErrBounds, "salt length"},
		{"argon2id key too short", a2sk(goodSalt, encodeB64(make([]byte, 15))), ErrBounds, "key length"},
		{"argon2id key too long", a2sk(goodSalt, encodeB64(make([]byte, 65))), ErrBounds, "key length"},

		{"pbkdf2 missing field", "$pbkdf2-sha256$i=1000$" + goodSalt, ErrMalformed, ""},
		{"pbkdf2 extra field", pb("i=1000") + "$", ErrMalformed, ""},
		{"pbkdf2 iterations empty", pb("i="), ErrMalformed, ""},
		{"pbkdf2 iterations not number", pb("i=1e6"), ErrMalformed, ""},
		{"pbkdf2 iterations other key", pb("rounds=1000"), ErrMalformed, ""},
		{"pbkdf2 passlib with plus", "$pbkdf2-sha256$1212$" + ab64Salt + "$" + strings.ReplaceAll(ab64Key, ".", "+"), ErrMalformed, ""},
		{"pbkdf2 phc with dot", "$pbkdf2-sha256$i=1212$" + ab64Salt + "$" + ab64Key, ErrMalformed, ""},
		{"pbkdf2 iterations low", pb("i=999"), ErrBounds, "i"},
		{"pbkdf2 iterations high", pb("i=10000001"), ErrBounds, "i"},
		{"pbkdf2 passlib iterations low", pb("999"), ErrBounds, "i"},
		{"pbkdf2 salt short", "$pbkdf2-sha256$i=1000$c29tZQ$" + goodKey, ErrBounds, "salt length"},
		{"pbkdf2 key short", "$pbkdf2-sha256$i=1000$" + goodSalt + "$" + encodeB64(make([]byte, 8)), ErrBounds, "key length"},
		{"pbkdf2 key long", "$pbkdf2-sha256$i=1000$" + goodSalt + "$" + encodeB64(make([]byte, 65)), ErrBounds, "key length"},
	}
	sentinels := []error{ErrPlaintext, ErrUnsupported, ErrMalformed, ErrBounds}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %v", tt.in, h, tt.want)
			}
			if h != nil {
				t.Errorf("Parse returned non-nil Hash with error")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) error %q, want errors.Is %q", tt.in, err, tt.want)
			}
			for _, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("error %q also matches %q", err, s)
				}
			}
			if tt.param != "" {
				var pe *ParamError
				if !errors.As(err, &pe) {
					t.Fatalf("error %q is not a *ParamError", err)
				}
				if pe.Param != tt.param {
					t.Errorf("ParamError.Param = %q, want %q (%v)", pe.Param, tt.param, err)
				}
			}
			// Error messages may be logged: never echo key material.
			if strings.Contains(err.Error(), "nf65EOgLrQMR") || strings.Contains(err.Error(), "E5YPO9kmyuRGyh0") {
				t.Errorf("error message leaks hash material: %q", err)
			}
		})
	}
}

func TestParseValidEdges(t *testing.T) {
	for _, s := range []string{
		"$argon2id$v=19$p=1,t=2,m=256$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", // any order
		"$argon2id$v=19$m=32,t=1,p=4$c29tZXNhbHQ$" + encodeB64(make([]byte, 16)),               // m = 8p
		"$argon2id$v=19$m=1048576,t=10,p=64$" + encodeB64(make([]byte, 64)) + "$" + encodeB64(make([]byte, 64)),
		"$pbkdf2-sha256$i=1000$c29tZXNhbHQ$" + encodeB64(make([]byte, 16)),
		"$pbkdf2-sha256$10000000$c29tZXNhbHQ$" + encodeB64(make([]byte, 64)),
		"$2a$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
	} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	bc := MustParse("$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq")
	a2 := MustParse("$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc")
	pb := MustParse("$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ")

	if c, ok := bc.BcryptCost(); !ok || c != 5 {
		t.Errorf("BcryptCost() = %d, %v", c, ok)
	}
	if p, ok := a2.Argon2Params(); !ok || p != (Argon2Params{Memory: 256, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 32}) {
		t.Errorf("Argon2Params() = %+v, %v", p, ok)
	}
	if i, ok := pb.PBKDF2Iterations(); !ok || i != 1212 {
		t.Errorf("PBKDF2Iterations() = %d, %v", i, ok)
	}
	for _, h := range []*Hash{a2, pb} {
		if _, ok := h.BcryptCost(); ok {
			t.Errorf("%s: BcryptCost ok", h.Scheme())
		}
	}
	for _, h := range []*Hash{bc, pb} {
		if _, ok := h.Argon2Params(); ok {
			t.Errorf("%s: Argon2Params ok", h.Scheme())
		}
	}
	for _, h := range []*Hash{bc, a2} {
		if _, ok := h.PBKDF2Iterations(); ok {
			t.Errorf("%s: PBKDF2Iterations ok", h.Scheme())
		}
	}
}

func TestNilAndZeroHash(t *testing.T) {
	for _, h := range []*Hash{nil, {}} {
		if h.Verify([]byte("x")) || h.Verify(nil) {
			t.Error("Verify on nil/zero Hash = true")
		}
		if h.Scheme() != "" || h.String() != "" || h.IsFake() {
			t.Error("nil/zero Hash has scheme, string or is fake")
		}
		if _, ok := h.BcryptCost(); ok {
			t.Error("BcryptCost ok")
		}
		if _, ok := h.Argon2Params(); ok {
			t.Error("Argon2Params ok")
		}
		if _, ok := h.PBKDF2Iterations(); ok {
			t.Error("PBKDF2Iterations ok")
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse("plain")
}

// Verify is called from many request goroutines on the same parsed Hash.
func TestVerifyConcurrent(t *testing.T) {
	var hashes []*Hash
	for _, v := range knownVectors {
		hashes = append(hashes, MustParse(v.hash))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, h := range hashes {
				if !h.Verify([]byte(knownVectors[i].password)) {
					t.Errorf("%s: concurrent Verify failed", knownVectors[i].name)
				}
			}
		}()
	}
	wg.Wait()
}
