package accesstoken

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

const iss = "https://as.example.com"

func testPolicy(tb testing.TB) *Policy {
	return mustPolicy(tb, PolicyOptions{
		AllowedIssuers: []string{iss}, Audiences: []string{"api://orders"},
		AllowedClientIDs: []string{"app-1"}, RequiredScopes: []string{"orders:read"},
		MaxTokenAge: 24 * time.Hour, RequireExp: true,
	})
}

// newTestVerifier returns a verifier at t0 and a counter of signature checks.
func newTestVerifier(tb testing.TB, src *fakeSource, mod func(*VerifierOptions)) (*Verifier, *atomic.Int64) {
	tb.Helper()
	o := VerifierOptions{
		Keys: src, Policy: testPolicy(tb), RequireTypATJWT: true,
		AllowedAlgorithms: append([]string{"ES512"}, DefaultAlgorithms...),
		Now:               func() time.Time { return t0 },
	}
	if mod != nil {
		mod(&o)
	}
	v, err := NewVerifier(o)
	if err != nil {
		tb.Fatal(err)
	}
	var n atomic.Int64
	inner := v.verifySig
	v.verifySig = func(m jwt.SigningMethod, s string, sig []byte, key any) error {
		n.Add(1)
		return inner(m, s, sig, key)
	}
	return v, &n
}

func TestVerify(t *testing.T) {
	k := tk(t)
	c := baseClaims()
	good := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, nil)
	parts := strings.Split(good, ".")
	sigBytes := must(segmentEncoding.DecodeString(parts[2]))
	cutSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sigBytes[:len(sigBytes)-1])
	tampered := parts[0] + "." + b64(mustJSON(with(c, "iss", "https://evil.example.com"))) + "." + parts[2]
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))})
	rsaDER := x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)
	hsHdr := `{"alg":"HS256","typ":"at+jwt","kid":"rsa"}`
	payload := mustJSON(c)
	allowHS := func(o *VerifierOptions) { o.AllowedAlgorithms = append(o.AllowedAlgorithms, "HS256") }
	noTyp := func(o *VerifierOptions) { o.RequireTypATJWT = false }

	tests := []struct {
		name     string
		token    string
		mod      func(*VerifierOptions)
		wantErr  error
		wantSigs int64 // signature checks expected (-1: don't care)
	}{
		{"RS256", good, nil, nil, 1},
		{"RS384", sign(t, jwt.SigningMethodRS384, k.rsa, "rsa", c, nil), nil, nil, 1},
		{"RS512", sign(t, jwt.SigningMethodRS512, k.rsa, "rsa", c, nil), nil, nil, 1},
		{"PS256", sign(t, jwt.SigningMethodPS256, k.rsa, "rsa", c, nil), nil, nil, 1},
		{"PS512", sign(t, jwt.SigningMethodPS512, k.rsa, "rsa", c, nil), nil, nil, 1},
		{"ES256", sign(t, jwt.SigningMethodES256, k.p256, "p256", c, nil), nil, nil, 1},
		{"ES384", sign(t, jwt.SigningMethodES384, k.p384, "p384", c, nil), nil, nil, 1},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, k.ed, "ed", c, nil), nil, nil, 1},
		{"HS256 when listed", sign(t, jwt.SigningMethodHS256, k.hmac, "hmac", c, nil), allowHS, nil, 1},
		{"typ application/at+jwt", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"typ": "application/AT+JWT"}), nil, nil, 1},
		{"typ not required", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"typ": "JWT"}), noTyp, nil, 1},
		{"jku and x5u ignored", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"jku": "https://evil/jwks", "x5u": "https://evil/x5u", "jwk": map[string]any{"kty": "oct", "k": "AA"}}), nil, nil, 1},
		{"JWK alg matches", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-256", c, nil), nil, nil, 1},

		// Claims, checked after the signature.
		{"expired", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "exp", t0.Add(-time.Second).Unix()), nil), nil, errcode.TokenExpired, 1},
		{"exp missing", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "exp", nil), nil), nil, errcode.TokenMalformed, 1},
		{"nbf future", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "nbf", t0.Add(time.Minute).Unix()), nil), nil, errcode.TokenNotYetValid, 1},
		{"iat future", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "iat", t0.Add(time.Minute).Unix()), nil), nil, errcode.TokenNotYetValid, 1},
		{"too old", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "iat", t0.Add(-25*time.Hour).Unix()), nil), nil, errcode.TokenTooOld, 1},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "iss", "https://as.example.com/"), nil), nil, errcode.IssuerMismatch, 1},
		{"wrong audience string", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "aud", "api://billing"), nil), nil, errcode.AudienceMismatch, 1},
		{"wrong audience array", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "aud", []string{"a", "b"}), nil), nil, errcode.AudienceMismatch, 1},
		{"audience array contains", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "aud", []string{"a", "api://orders"}), nil), nil, nil, 1},
		{"audience missing", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "aud", nil), nil), nil, errcode.AudienceMismatch, 1},
		{"client not allowed", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "client_id", "app-2"), nil), nil, errcode.ClientNotAllowed, 1},
		{"client via azp", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "client_id", nil, "azp", "app-1"), nil), nil, nil, 1},
		{"scope missing", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(c, "scope", "orders:write"), nil), nil, errcode.InsufficientScope, 1},
		{"exp as a string", signRaw(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"rsa"}`, `{"exp":"1800000000"}`), nil, errcode.TokenMalformed, 1},
		{"payload not JSON", signRaw(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"rsa"}`, `{"exp":`), nil, errcode.TokenMalformed, 1},
		{"payload an array", signRaw(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"rsa"}`, `[1]`), nil, errcode.TokenMalformed, 1},

		// Signature.
		{"signed by another key", sign(t, jwt.SigningMethodRS256, k.rsaOther, "rsa", c, nil), nil, errcode.SignatureInvalid, 1},
		{"ES256 by another key", sign(t, jwt.SigningMethodES256, k.p256Other, "p256", c, nil), nil, errcode.SignatureInvalid, 1},
		{"tampered payload", tampered, nil, errcode.SignatureInvalid, 1},
		{"signature cut", cutSig, nil, errcode.SignatureInvalid, 1},
		{"bad payload, bad signature", parts[0] + "." + b64("{") + "." + parts[2], nil, errcode.SignatureInvalid, 1},

		// Keys and algorithms: refused before any crypto.
		{"unknown kid", sign(t, jwt.SigningMethodRS256, k.rsa, "nope", c, nil), nil, errcode.KeyNotFound, 0},
		{"no kid, source needs one", sign(t, jwt.SigningMethodRS256, k.rsa, "", c, nil), nil, errcode.KeyNotFound, 0},
		{"encryption key", sign(t, jwt.SigningMethodRS256, k.rsa, "enc", c, nil), nil, errcode.KeyNotFound, 0},
		{"alg none", b64(`{"alg":"none","typ":"at+jwt","kid":"rsa"}`) + "." + b64(payload) + ".", nil, errcode.AlgorithmNotAllowed, 0},
		{"alg NoNe", b64(`{"alg":"NoNe","typ":"at+jwt"}`) + "." + b64(payload) + "." + parts[2], nil, errcode.AlgorithmNotAllowed, 0},
		{"alg missing", b64(`{"typ":"at+jwt","kid":"rsa"}`) + "." + parts[1] + "." + parts[2], nil, errcode.AlgorithmNotAllowed, 0},
		{"alg not allowed", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, nil), func(o *VerifierOptions) { o.AllowedAlgorithms = []string{"ES256"} }, errcode.AlgorithmNotAllowed, 0},
		{"HS256 not listed", sign(t, jwt.SigningMethodHS256, k.hmac, "hmac", c, nil), nil, errcode.AlgorithmNotAllowed, 0},
		{"key confusion PEM", signRaw(t, jwt.SigningMethodHS256, rsaPEM, hsHdr, payload), allowHS, errcode.AlgorithmNotAllowed, 0},
		{"key confusion DER", signRaw(t, jwt.SigningMethodHS256, rsaDER, hsHdr, payload), allowHS, errcode.AlgorithmNotAllowed, 0},
		{"ES256 header, RSA key", signRaw(t, jwt.SigningMethodES256, k.p256, `{"alg":"ES256","typ":"at+jwt","kid":"rsa"}`, payload), nil, errcode.AlgorithmNotAllowed, 0},
		{"ES384 header, P-256 key", signRaw(t, jwt.SigningMethodES384, k.p384, `{"alg":"ES384","typ":"at+jwt","kid":"p256"}`, payload), nil, errcode.AlgorithmNotAllowed, 0},
		{"ES512 header, P-384 key", signRaw(t, jwt.SigningMethodES384, k.p384, `{"alg":"ES512","typ":"at+jwt","kid":"p384"}`, payload), nil, errcode.AlgorithmNotAllowed, 0},
		{"EdDSA header, EC key", signRaw(t, jwt.SigningMethodEdDSA, k.ed, `{"alg":"EdDSA","typ":"at+jwt","kid":"p256"}`, payload), nil, errcode.AlgorithmNotAllowed, 0},
		{"RS256 header, Ed25519 key", sign(t, jwt.SigningMethodRS256, k.rsa, "ed", c, nil), nil, errcode.AlgorithmNotAllowed, 0},
		{"JWK alg RS256, token RS512", sign(t, jwt.SigningMethodRS512, k.rsa, "rsa-256", c, nil), nil, errcode.AlgorithmNotAllowed, 0},
		{"RSA 1024", sign(t, jwt.SigningMethodRS256, k.rsa1024, "rsa1024", c, nil), nil, errcode.AlgorithmNotAllowed, 0},
		{"short HMAC key", sign(t, jwt.SigningMethodHS256, []byte("too-short"), "short", c, nil), allowHS, errcode.AlgorithmNotAllowed, 0},

		// typ (RFC 9068 §4).
		{"typ JWT", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"typ": "JWT"}), nil, errcode.TokenTypeInvalid, 0},
		{"typ missing", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"typ": nil}), nil, errcode.TokenTypeInvalid, 0},
		{"typ id token", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"typ": "id_token+jwt"}), nil, errcode.TokenTypeInvalid, 0},

		// Structure.
		{"crit", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c, map[string]any{"crit": []string{"exp"}}), nil, errcode.TokenMalformed, 0},
		{"crit null", signRaw(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"rsa","crit":null}`, payload), nil, errcode.TokenMalformed, 0},
		{"empty", "", nil, errcode.TokenMalformed, 0},
		{"two parts", parts[0] + "." + parts[1], nil, errcode.TokenMalformed, 0},
		{"four parts", good + ".x", nil, errcode.TokenMalformed, 0},
		{"JWE-like five parts", "a.b.c.d.e", nil, errcode.TokenMalformed, 0},
		{"bad base64 header", "e@J." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"padded header", parts[0] + "=." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"empty header", "." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"bad JSON header", b64(`{"alg":"RS256"`) + "." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"header array", b64(`["RS256"]`) + "." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"alg a number", b64(`{"alg":256}`) + "." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"kid an object", b64(`{"alg":"RS256","typ":"at+jwt","kid":{}}`) + "." + parts[1] + "." + parts[2], nil, errcode.TokenMalformed, 0},
		{"bad base64 payload", parts[0] + ".%%%." + parts[2], nil, errcode.TokenMalformed, 0},
		{"bad base64 signature", parts[0] + "." + parts[1] + ".a+b", nil, errcode.TokenMalformed, 0},
		{"empty signature", parts[0] + "." + parts[1] + ".", nil, errcode.TokenMalformed, 0},
		{"too long", parts[0] + "." + strings.Repeat("A", MaxTokenLen) + "." + parts[2], nil, errcode.TokenMalformed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, sigs := newTestVerifier(t, newSource(k), tt.mod)
			got, err := v.Verify(context.Background(), tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got.Subject != "user-1" || got.Issuer != iss || got.Expiry == nil {
					t.Fatalf("claims: %+v", got)
				}
			} else {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var ce *errcode.Error
				if !errors.As(err, &ce) {
					t.Fatalf("%T is not an *errcode.Error", err)
				}
				if got != nil {
					t.Fatal("claims returned with an error")
				}
			}
			if tt.wantSigs >= 0 && sigs.Load() != tt.wantSigs {
				t.Fatalf("%d signature checks, want %d", sigs.Load(), tt.wantSigs)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The log fields carry expected vs received values.
func TestVerifyErrorFields(t *testing.T) {
	k := tk(t)
	v, _ := newTestVerifier(t, newSource(k), func(o *VerifierOptions) { o.AllowedAlgorithms = []string{"ES256"} })
	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil))
	e := errcode.From(err)
	if e.Field("alg") != "RS256" || len(e.Field("allowed").([]string)) != 1 {
		t.Fatalf("fields %v", maps.Collect(e.Fields()))
	}

	v, _ = newTestVerifier(t, newSource(k), nil)
	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(baseClaims(), "iss", "x"), nil))
	e = errcode.From(err)
	if e.Field("iss") != "x" || e.Field("expected_iss").([]string)[0] != iss {
		t.Fatalf("fields %v", maps.Collect(e.Fields()))
	}
	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(baseClaims(), "scope", "a b"), nil))
	e = errcode.From(err)
	if e.Field("required_scope") != "orders:read" || e.Field("token_scopes") != "a b" {
		t.Fatalf("fields %v", maps.Collect(e.Fields()))
	}
}

// Provider errors from the key source pass through unchanged.
func TestVerifyProviderErrorPassesThrough(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	perr := errcode.New(errcode.ProviderUnreachable, "dial tcp: connection refused").With("url", "https://as/jwks")
	src.err = perr
	v, _ := newTestVerifier(t, src, nil)
	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil))
	if err != perr {
		t.Fatalf("err = %v, want the source's own error", err)
	}
}

func TestNewVerifierOptions(t *testing.T) {
	src := newSource(tk(t))
	for _, tc := range []struct {
		algs []string
		ok   bool
	}{
		{nil, true}, {[]string{"RS256"}, true}, {[]string{"HS256", "RS256"}, true}, {[]string{"ES512"}, true},
		{[]string{"none"}, false}, {[]string{"RS256", "None"}, false}, {[]string{"rs256"}, false}, {[]string{"HS1"}, false}, {[]string{""}, false},
	} {
		_, err := NewVerifier(VerifierOptions{Keys: src, AllowedAlgorithms: tc.algs})
		if (err == nil) != tc.ok {
			t.Errorf("%v: err = %v", tc.algs, err)
		}
	}
	if _, err := NewVerifier(VerifierOptions{}); err == nil {
		t.Error("a verifier without keys must be refused")
	}
	v, err := NewVerifier(VerifierOptions{Keys: src})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.allowed, " ") != strings.Join(DefaultAlgorithms, " ") {
		t.Errorf("default allow-list %v", v.allowed)
	}
	if _, hs := v.algs["HS256"]; hs {
		t.Error("HS256 must not be allowed by default")
	}
}

// A verifier whose policy does not ask for exp still requires it for JWTs.
func TestVerifierAlwaysRequiresExp(t *testing.T) {
	k := tk(t)
	v, _ := newTestVerifier(t, newSource(k), func(o *VerifierOptions) { o.Policy = mustPolicy(t, PolicyOptions{}) })
	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(baseClaims(), "exp", nil), nil))
	if !errors.Is(err, errcode.TokenMalformed) {
		t.Fatalf("err = %v", err)
	}
}
