package accesstoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/internal/testkeys"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Unix(1_700_000_000, 0)

// testKeys are real keys, generated once per test binary.
type testKeys struct {
	rsa, rsaOther, rsa1024 *rsa.PrivateKey
	p256, p384, p256Other  *ecdsa.PrivateKey
	ed                     ed25519.PrivateKey
	hmac                   []byte
}

// tk returns the test keys, generated once per test binary.
func tk(tb testing.TB) *testKeys {
	tb.Helper()
	return &testKeys{
		rsa:       testkeys.RSA(tb, "a", 2048),
		rsaOther:  testkeys.RSA(tb, "b", 2048),
		rsa1024:   testkeys.RSA(tb, "weak", 1024),
		p256:      testkeys.EC(tb, "a", elliptic.P256()),
		p256Other: testkeys.EC(tb, "b", elliptic.P256()),
		p384:      testkeys.EC(tb, "a", elliptic.P384()),
		ed:        testkeys.Ed25519(tb, "a"),
		hmac:      testkeys.Secret(tb, "hmac", 32),
	}
}

// fakeSource is a jwks.Source over a fixed map, counting lookups; gate, when
// set, holds every lookup until it is closed.
type fakeSource struct {
	keys  map[string]*jwks.Key
	err   error
	gate  chan struct{}
	calls atomic.Int64
}

func (f *fakeSource) Lookup(ctx context.Context, kid string) (*jwks.Key, error) {
	f.calls.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	if f.err != nil {
		return nil, f.err
	}
	if k, ok := f.keys[kid]; ok {
		return k, nil
	}
	return nil, errcode.New(errcode.KeyNotFound, "kid %q not in the key set", kid).With("kid", kid)
}

var _ jwks.Source = (*fakeSource)(nil)

func newSource(k *testKeys) *fakeSource {
	return &fakeSource{keys: map[string]*jwks.Key{
		"rsa":     {ID: "rsa", Type: "RSA", Public: &k.rsa.PublicKey},
		"rsa-256": {ID: "rsa-256", Type: "RSA", Alg: "RS256", Public: &k.rsa.PublicKey},
		"rsa1024": {ID: "rsa1024", Type: "RSA", Public: &k.rsa1024.PublicKey},
		"p256":    {ID: "p256", Type: "EC", Curve: "P-256", Public: &k.p256.PublicKey},
		"p384":    {ID: "p384", Type: "EC", Curve: "P-384", Public: &k.p384.PublicKey},
		"ed":      {ID: "ed", Type: "OKP", Curve: "Ed25519", Public: k.ed.Public()},
		"hmac":    {ID: "hmac", Type: "oct", Public: k.hmac},
		"short":   {ID: "short", Type: "oct", Public: []byte("too-short")},
		"enc":     {ID: "enc", Type: "RSA", Use: "enc", Public: &k.rsa.PublicKey},
	}}
}

// clock is a settable fake clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock        { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// baseClaims is a valid RFC 9068 claim set at t0.
func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "https://as.example.com", "sub": "user-1", "aud": "api://orders",
		"client_id": "app-1", "jti": "id-1", "scope": "orders:read orders:write",
		"iat": t0.Add(-time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix(),
	}
}

// sign makes a JWS with golang-jwt; kid "" omits the header.
func sign(tb testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims, hdr map[string]any) string {
	tb.Helper()
	t := jwt.NewWithClaims(m, claims)
	if kid != "" {
		t.Header["kid"] = kid
	}
	t.Header["typ"] = "at+jwt"
	for k, v := range hdr {
		if v == nil {
			delete(t.Header, k)
		} else {
			t.Header[k] = v
		}
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// signRaw signs arbitrary header and payload bytes, for tokens golang-jwt
// would not build (bad JSON, string exp, crit).
func signRaw(tb testing.TB, m jwt.SigningMethod, key any, header, payload string) string {
	tb.Helper()
	ss := b64(header) + "." + b64(payload)
	sig, err := m.Sign(ss, key)
	if err != nil {
		tb.Fatal(err)
	}
	return ss + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func mustPolicy(tb testing.TB, o PolicyOptions) *Policy {
	tb.Helper()
	p, err := NewPolicy(o)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}
