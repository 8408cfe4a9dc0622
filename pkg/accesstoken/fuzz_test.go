package accesstoken

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// FuzzVerify: no input panics, every refusal is a catalog error, and
// nothing is accepted unless its signature verifies with the real key the
// source holds for its kid.
func FuzzVerify(f *testing.F) {
	k := tk(f)
	c := baseClaims()
	f.Add(sign(f, jwt.SigningMethodRS256, k.rsa, "rsa", c, nil))
	f.Add(sign(f, jwt.SigningMethodES256, k.p256, "p256", c, nil))
	f.Add(sign(f, jwt.SigningMethodEdDSA, k.ed, "ed", c, nil))
	f.Add(sign(f, jwt.SigningMethodHS256, k.hmac, "hmac", c, nil))
	f.Add(signRaw(f, jwt.SigningMethodHS256, k.hmac, `{"alg":"HS256","kid":"rsa","typ":"at+jwt"}`, mustJSON(c)))
	f.Add(b64(`{"alg":"none"}`) + "." + b64(mustJSON(c)) + ".")
	f.Add("a.b.c")
	f.Add("..")
	src := newSource(k)
	v, err := NewVerifier(VerifierOptions{
		Keys: src, Policy: testPolicy(f), RequireTypATJWT: true,
		AllowedAlgorithms: append([]string{"HS256"}, DefaultAlgorithms...),
		Now:               func() time.Time { return t0 },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify(context.Background(), token)
		if err != nil {
			var ce *errcode.Error
			if !errors.As(err, &ce) {
				t.Fatalf("uncoded error %T %v", err, err)
			}
			if claims != nil {
				t.Fatal("claims with an error")
			}
			return
		}
		// Independent check with golang-jwt's own primitives.
		parts := strings.Split(token, ".")
		h, herr := ParseHeader(parts[0])
		if herr != nil {
			t.Fatalf("accepted a token with a bad header: %v", herr)
		}
		key, kerr := src.Lookup(context.Background(), h.Kid)
		m := jwt.GetSigningMethod(h.Alg)
		sig, serr := segmentEncoding.DecodeString(parts[2])
		if kerr != nil || m == nil || serr != nil || m.Verify(parts[0]+"."+parts[1], sig, key.Public) != nil {
			t.Fatalf("accepted %q without a valid signature", token)
		}
		if h.Alg == "HS256" && key.Type != "oct" {
			t.Fatal("key confusion accepted")
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{`{"alg":"RS256","kid":"k","typ":"at+jwt"}`, `{"alg":"none"}`, `{"crit":[]}`, `[]`, `{"alg":1}`, `null`} {
		f.Add(b64(s))
	}
	f.Fuzz(func(t *testing.T, seg string) {
		h, err := ParseHeader(seg)
		if err != nil {
			if !errors.Is(err, errcode.TokenMalformed) {
				t.Fatalf("code %v", err)
			}
			return
		}
		if _, crit := h.Raw["crit"]; crit {
			t.Fatal("crit accepted")
		}
		for name, got := range map[string]string{"alg": h.Alg, "typ": h.Typ, "kid": h.Kid} {
			if want, _ := h.Raw[name].(string); want != got {
				t.Fatalf("%s: %q vs raw %q", name, got, want)
			}
		}
	})
}

func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{`{"iss":"i","aud":["a"],"exp":1700000000,"scope":"a b"}`, `{"exp":"1"}`, `{"aud":[1]}`, `{"exp":1e400}`, `{"nbf":-0.5}`, `{}`} {
		f.Add([]byte(s))
	}
	p := mustPolicy(f, PolicyOptions{AllowedIssuers: []string{"i"}, Audiences: []string{"a"}, RequiredScopes: []string{"a"}, RequireExp: true, MaxTokenAge: time.Hour})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseClaims(b)
		if err != nil {
			if !errors.Is(err, errcode.TokenMalformed) {
				t.Fatalf("code %v", err)
			}
			return
		}
		if _, ok := c.Raw["exp"]; ok != (c.Expiry != nil) {
			t.Fatal("exp present but not typed, or the reverse")
		}
		if err := p.Check(c, t0); err != nil {
			if _, ok := err.(*errcode.Error); !ok {
				t.Fatalf("uncoded %v", err)
			}
		}
	})
}
