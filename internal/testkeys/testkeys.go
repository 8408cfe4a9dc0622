// Package testkeys hands tests real generated keys, memoized by name for
// the whole test binary: RSA-2048 generation costs tens of milliseconds, and
// every package that verifies signatures needs several keys.
package testkeys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
)

var (
	mu   sync.Mutex
	keys = map[string]any{}
)

func get[T any](tb testing.TB, kind, name string, gen func() (T, error)) T {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	k := kind + "/" + name
	if v, ok := keys[k]; ok {
		return v.(T)
	}
	v, err := gen()
	if err != nil {
		tb.Fatalf("testkeys: %s: %v", k, err)
	}
	keys[k] = v
	return v
}

// RSA returns the RSA key called name (bits, usually 2048).
func RSA(tb testing.TB, name string, bits int) *rsa.PrivateKey {
	return get(tb, "rsa"+itoa(bits), name, func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, bits) })
}

// EC returns the ECDSA key called name on curve.
func EC(tb testing.TB, name string, curve elliptic.Curve) *ecdsa.PrivateKey {
	return get(tb, "ec-"+curve.Params().Name, name, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(curve, rand.Reader) })
}

// Ed25519 returns the Ed25519 key called name.
func Ed25519(tb testing.TB, name string) ed25519.PrivateKey {
	return get(tb, "ed25519", name, func() (ed25519.PrivateKey, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	})
}

// Secret returns n random bytes called name (HMAC keys).
func Secret(tb testing.TB, name string, n int) []byte {
	return get(tb, "secret"+itoa(n), name, func() ([]byte, error) {
		b := make([]byte, n)
		_, err := rand.Read(b)
		return b, err
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
