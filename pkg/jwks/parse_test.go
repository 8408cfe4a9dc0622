package jwks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func TestParseEachKind(t *testing.T) {
	k := keys(t)
	hmac := bytes.Repeat([]byte{7}, 32)
	set, err := Parse(setJSON(
		rsaJWK("rsa", &k.rsa.PublicKey),
		ecJWK("p256", &k.p256.PublicKey),
		ecJWK("p384", &k.p384.PublicKey),
		ecJWK("p521", &k.p521.PublicKey),
		edJWK("ed", k.edPub),
		octJWK("hs", hmac),
	), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 6 || len(set.Skipped) != 0 {
		t.Fatalf("keys %v skipped %v", set.KeyIDs(), set.Skipped)
	}
	check := func(kid, kty, crv string, want any) {
		t.Helper()
		got, err := set.Lookup(context.Background(), kid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != kty || got.Curve != crv || !samePublic(got.Public, want) {
			t.Errorf("%s: got %+v", kid, got)
		}
	}
	check("rsa", "RSA", "", &k.rsa.PublicKey)
	check("p256", "EC", "P-256", &k.p256.PublicKey)
	check("p384", "EC", "P-384", &k.p384.PublicKey)
	check("p521", "EC", "P-521", &k.p521.PublicKey)
	check("ed", "OKP", "Ed25519", k.edPub)
	check("hs", "oct", "", hmac)

	// The parsed keys really verify signatures made with the private keys.
	digest := bytes.Repeat([]byte{1}, 32)
	sig, _ := ecdsa.SignASN1(nil, k.p256, digest)
	if got, _ := set.Lookup(context.Background(), "p256"); !ecdsa.VerifyASN1(got.Public.(*ecdsa.PublicKey), digest, sig) {
		t.Error("P-256 key does not verify")
	}
	edSig := ed25519.Sign(k.ed, []byte("msg"))
	if got, _ := set.Lookup(context.Background(), "ed"); !ed25519.Verify(got.Public.(ed25519.PublicKey), []byte("msg"), edSig) {
		t.Error("Ed25519 key does not verify")
	}
	if got, _ := set.Lookup(context.Background(), "rsa"); got.Public.(*rsa.PublicKey).Size() != 256 || got.Alg != "RS256" || got.Use != "sig" {
		t.Errorf("rsa key %+v", got)
	}
}

func TestParseSkips(t *testing.T) {
	k := keys(t)
	good := rsaJWK("good", &k.rsa.PublicKey)
	tests := []struct {
		name     string
		key      jwk
		allowOct bool
		reason   string
	}{
		{"enc", rsaJWK("e", &k.rsa2.PublicKey).with("use", "enc", "alg", nil), false, `use "enc"`},
		{"key_ops encrypt", rsaJWK("e", &k.rsa2.PublicKey).with("key_ops", []string{"encrypt"}), false, `key_ops without "verify"`},
		{"unknown kty", jwk{"kty": "PQC", "kid": "x", "pub": 1}, false, `unsupported kty "PQC"`},
		{"unknown EC curve", ecJWK("c", &k.p256.PublicKey).with("crv", "secp256k1"), false, `unsupported EC curve "secp256k1"`},
		{"X25519", jwk{"kty": "OKP", "crv": "X25519", "x": b64(make([]byte, 32))}, false, `unsupported OKP curve "X25519"`},
		{"oct from remote", octJWK("h", bytes.Repeat([]byte{1}, 32)), false, "symmetric (oct) key not accepted"},
		{"encryption alg", rsaJWK("o", &k.rsa2.PublicKey).with("alg", "RSA-OAEP", "use", nil), false, `alg "RSA-OAEP" is not a signature algorithm`},
		{"alg for other curve", ecJWK("c", &k.p256.PublicKey).with("alg", "ES384"), false, `alg "ES384"`},
		{"weak rsa", rsaJWK("w", &k.rsa1024.PublicKey), false, "RSA modulus of 1024 bits, minimum 2048"},
		{"private key", rsaJWK("p", &k.rsa2.PublicKey).with("d", b64(k.rsa2.D.Bytes())), false, `carries private key material`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse(setJSON(good, tt.key), tt.allowOct)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 1 || len(set.Skipped) != 1 || !strings.Contains(set.Skipped[0], tt.reason) {
				t.Fatalf("keys %v skipped %q, want reason %q", set.KeyIDs(), set.Skipped, tt.reason)
			}
			if !strings.HasPrefix(set.Skipped[0], "keys[1]") {
				t.Errorf("skip reason does not say which key: %q", set.Skipped[0])
			}
			// Alone, the skipped key leaves no usable key: that is an error.
			_, err = Parse(setJSON(tt.key), tt.allowOct)
			if !errors.Is(err, ErrNoUsableKeys) || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("alone: %v", err)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	k := keys(t)
	good := rsaJWK("good", &k.rsa.PublicKey)
	p256 := ecJWK("ec", &k.p256.PublicKey)
	offCurve := p256.with("y", b64(bytes.Repeat([]byte{1}, 32)))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("<html>"), "not a JSON object"},
		{"array", []byte("[]"), "not a JSON object"},
		{"null", []byte("null"), `no "keys" member`},
		{"no keys", []byte(`{"kids":[]}`), `no "keys" member`},
		{"keys not array", []byte(`{"keys":{}}`), `"keys" is not an array`},
		{"keys null", []byte(`{"keys":null}`), `"keys" is not an array`},
		{"empty set", setJSON(), "the set is empty"},
		{"key not object", []byte(`{"keys":[42]}`), "keys[0]: not a JSON object"},
		{"missing kty", setJSON(good.with("kty", nil)), `missing required member "kty"`},
		{"kty not string", setJSON(good.with("kty", 1)), `member "kty" is not a string`},
		{"kid not string", setJSON(good.with("kid", 7)), `member "kid" is not a string`},
		{"key_ops not array", setJSON(good.with("key_ops", "verify")), `"key_ops" is not an array`},
		{"missing n", setJSON(good.with("n", nil)), `missing required member "n"`},
		{"missing e", setJSON(good.with("e", nil)), `missing required member "e"`},
		{"bad base64url n", setJSON(good.with("n", "a+b/c")), `member "n": bad base64url`},
		{"n not string", setJSON(good.with("n", 12345)), `member "n" is not a string`},
		{"even modulus", setJSON(good.with("n", b64(bytes.Repeat([]byte{0xfe}, 256)))), "not an odd modulus"},
		{"e = 1", setJSON(good.with("e", b64([]byte{1}))), "not a valid public exponent"},
		{"e too long", setJSON(good.with("e", b64(bytes.Repeat([]byte{1}, 9)))), `"e" is 9 bytes`},
		{"ec missing crv", setJSON(p256.with("crv", nil)), `missing required member "crv"`},
		{"ec missing y", setJSON(p256.with("y", nil)), `missing required member "y"`},
		{"ec short x", setJSON(p256.with("x", b64(make([]byte, 31)))), "want 32 for P-256"},
		{"ec off curve", setJSON(offCurve), "point is not on curve P-256"},
		{"ed short", setJSON(edJWK("ed", k.edPub[:31])), `"x" is 31 bytes, want 32`},
		{"ed bad base64", setJSON(edJWK("ed", k.edPub).with("x", "!!!")), "bad base64url"},
		{"oct missing k", []byte(`{"keys":[{"kty":"oct"}]}`), `missing required member "k"`},
		{"oct too short", setJSON(octJWK("h", []byte("secret"))), "oct key of 6 bytes, at least 32"},
		{"oct HS512 short", setJSON(octJWK("h", make([]byte, 32)).with("alg", "HS512")), "at least 64"},
		{"duplicate kid different key", setJSON(good, rsaJWK("good", &k.rsa2.PublicKey)), "duplicate kid and kty RSA"},
		{"malformed after good", setJSON(good, p256.with("x", nil)), `keys[1] (kid "ec"): missing required member "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse(tt.data, true)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, %v; want ErrMalformed", set, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseDuplicates(t *testing.T) {
	k := keys(t)
	a := rsaJWK("a", &k.rsa.PublicKey)
	// The same key twice is harmless: kept once, the repeat noted.
	set, err := Parse(setJSON(a, a), false)
	if err != nil || len(set.Keys) != 1 || len(set.Skipped) != 1 {
		t.Fatalf("%v %v", set, err)
	}
	// One kid for an RSA and an EC key is allowed (RFC 7517 §4.5); the
	// first in document order answers the lookup.
	set, err = Parse(setJSON(a, ecJWK("a", &k.p256.PublicKey)), false)
	if err != nil || len(set.Keys) != 2 {
		t.Fatalf("%v %v", set, err)
	}
	if got, _ := set.Lookup(context.Background(), "a"); got.Type != "RSA" {
		t.Errorf("got %s", got.Type)
	}
}

func TestParseTolerates(t *testing.T) {
	k := keys(t)
	padded := rsaJWK("p", &k.rsa.PublicKey)
	padded["e"] = "AQAB=" // some providers pad
	noKid := edJWK("", k.edPub).with("kid", nil, "alg", nil, "use", nil)
	withOps := ecJWK("o", &k.p384.PublicKey).with("key_ops", []string{"verify"})
	set, err := Parse(setJSON(padded, noKid, withOps), false)
	if err != nil || len(set.Keys) != 3 {
		t.Fatalf("%v %v", set, err)
	}
}

func TestSetLookup(t *testing.T) {
	k := keys(t)
	one, _ := Parse(setJSON(rsaJWK("only", &k.rsa.PublicKey)), false)
	if got, err := one.Lookup(context.Background(), ""); err != nil || got.ID != "only" {
		t.Fatalf("kid \"\" with one key: %v %v", got, err)
	}

	var many []jwk
	for _, kid := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		many = append(many, ecJWK(kid, &k.p256.PublicKey))
	}
	set, err := Parse(setJSON(many...), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.Lookup(context.Background(), "")
	if !errors.Is(err, errcode.KeyNotFound) || !strings.Contains(err.Error(), "token has no kid and the set has 12 keys") {
		t.Fatalf("kid \"\": %v", err)
	}
	_, err = set.Lookup(context.Background(), "zz")
	if !errors.Is(err, errcode.KeyNotFound) {
		t.Fatal(err)
	}
	e := errcode.From(err)
	if !strings.Contains(e.Detail, `kid "zz" is not in the key set (known kids: "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" and 2 more)`) {
		t.Fatalf("detail %q", e.Detail)
	}
	if e.Field("kid") != "zz" {
		t.Errorf("fields %v", maps.Collect(e.Fields()))
	}
	// An attacker-sized kid is bounded in the log.
	_, err = set.Lookup(context.Background(), strings.Repeat("x", 5000))
	if len(err.Error()) > 500 {
		t.Fatalf("detail of %d bytes", len(err.Error()))
	}
}
