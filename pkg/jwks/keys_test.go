package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/testkeys"
)

// testKeySet holds real keys, generated once per test binary.
type testKeySet struct {
	once             sync.Once
	rsa, rsa2        *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
	edPub            ed25519.PublicKey
	rsa1024          *rsa.PrivateKey
}

var testKeys testKeySet

func keys(t testing.TB) *testKeySet {
	t.Helper()
	testKeys.once.Do(func() {
		testKeys.rsa = testkeys.RSA(t, "a", 2048)
		testKeys.rsa2 = testkeys.RSA(t, "b", 2048)
		testKeys.p256 = testkeys.EC(t, "a", elliptic.P256())
		testKeys.p384 = testkeys.EC(t, "a", elliptic.P384())
		testKeys.p521 = testkeys.EC(t, "a", elliptic.P521())
		testKeys.ed = testkeys.Ed25519(t, "a")
		testKeys.edPub = testKeys.ed.Public().(ed25519.PublicKey)
		// Go refuses to generate keys under 1024 bits; a 1024-bit one shows
		// the minimum-size rule.
		testKeys.rsa1024 = weakRSA()
	})
	return &testKeys
}

// weakRSA builds a 1024-bit public key without the cost (or the refusal)
// of generating one: only the public part is ever used.
func weakRSA() *rsa.PrivateKey {
	n := new(big.Int).Lsh(big.NewInt(1), 1023)
	n.Add(n, big.NewInt(1)) // odd, 1024 bits
	return &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

type jwk map[string]any

func rsaJWK(kid string, k *rsa.PublicKey) jwk {
	return jwk{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) jwk {
	size := (k.Curve.Params().BitSize + 7) / 8
	alg := map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[k.Curve.Params().Name]
	return jwk{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "alg": alg,
		"x": b64(k.X.FillBytes(make([]byte, size))), "y": b64(k.Y.FillBytes(make([]byte, size)))}
}

func edJWK(kid string, k ed25519.PublicKey) jwk {
	return jwk{"kty": "OKP", "kid": kid, "crv": "Ed25519", "alg": "EdDSA", "x": b64(k)}
}

func octJWK(kid string, k []byte) jwk {
	return jwk{"kty": "oct", "kid": kid, "alg": "HS256", "k": b64(k)}
}

// with returns a copy of j with members set (nil value: member removed).
func (j jwk) with(kv ...any) jwk {
	out := jwk{}
	for k, v := range j {
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

func setJSON(keys ...jwk) []byte {
	if keys == nil {
		keys = []jwk{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return b
}
