package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKey is a real generated key pair with its public JWK.
type testKey struct {
	alg string
	key crypto.Signer
	jwk map[string]any
}

func newES256(t testing.TB) *testKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, y := make([]byte, 32), make([]byte, 32)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	return &testKey{"ES256", k, map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(x), "y": b64.EncodeToString(y)}}
}

func newRS256(t testing.TB) *testKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{"RS256", k, map[string]any{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}}
}

func newEdDSA(t testing.TB) *testKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{"EdDSA", priv, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(pub)}}
}

var jtiSeq atomic.Int64

// claims are valid proof claims for req at now.
func claims(r Request, now time.Time, kv ...any) jwt.MapClaims {
	c := jwt.MapClaims{"jti": fmt.Sprintf("jti-%d-%d", now.UnixNano(), jtiSeq.Add(1)), "htm": r.Method, "htu": r.URI,
		"iat": now.Unix(), "ath": TokenHash(r.AccessToken)}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// proof signs c with k; hdr overrides header members (nil deletes one).
func (k *testKey) proof(t testing.TB, c jwt.MapClaims, hdr ...any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), c)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = k.jwk
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == nil {
			delete(tok.Header, hdr[i].(string))
			continue
		}
		tok.Header[hdr[i].(string)] = hdr[i+1]
	}
	s, err := tok.SignedString(k.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// raw builds a proof from JSON header and payload with a given signature.
func raw(header, payload map[string]any, sig []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	return b64.EncodeToString(h) + "." + b64.EncodeToString(p) + "." + b64.EncodeToString(sig)
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
