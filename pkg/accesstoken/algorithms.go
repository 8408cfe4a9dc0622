package accesstoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// DefaultAlgorithms is the allow-list when none is configured: the
// asymmetric algorithms providers sign access tokens with. HMAC (HS256,
// HS384, HS512) must be listed explicitly; "none" is never accepted, even
// when listed (RFC 8725 §3.2: NewVerifier refuses it).
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

type family int

const (
	famRSA family = iota
	famEC
	famOKP
	famHMAC
)

// algorithm binds a JWA name (RFC 7518 §3.1) to the only key type that may
// verify it.
type algorithm struct {
	name   string
	family family
	curve  elliptic.Curve // EC: the one curve of the alg (RFC 7518 §3.4)
	minKey int            // HMAC: key bytes ≥ hash size (RFC 7518 §3.2)
	method jwt.SigningMethod
}

var algorithms = map[string]*algorithm{
	"RS256": {name: "RS256", family: famRSA, method: jwt.SigningMethodRS256},
	"RS384": {name: "RS384", family: famRSA, method: jwt.SigningMethodRS384},
	"RS512": {name: "RS512", family: famRSA, method: jwt.SigningMethodRS512},
	"PS256": {name: "PS256", family: famRSA, method: jwt.SigningMethodPS256},
	"PS384": {name: "PS384", family: famRSA, method: jwt.SigningMethodPS384},
	"PS512": {name: "PS512", family: famRSA, method: jwt.SigningMethodPS512},
	"ES256": {name: "ES256", family: famEC, curve: elliptic.P256(), method: jwt.SigningMethodES256},
	"ES384": {name: "ES384", family: famEC, curve: elliptic.P384(), method: jwt.SigningMethodES384},
	"ES512": {name: "ES512", family: famEC, curve: elliptic.P521(), method: jwt.SigningMethodES512},
	"EdDSA": {name: "EdDSA", family: famOKP, method: jwt.SigningMethodEdDSA},
	"HS256": {name: "HS256", family: famHMAC, minKey: 32, method: jwt.SigningMethodHS256},
	"HS384": {name: "HS384", family: famHMAC, minKey: 48, method: jwt.SigningMethodHS384},
	"HS512": {name: "HS512", family: famHMAC, minKey: 64, method: jwt.SigningMethodHS512},
}

// minRSABits is RFC 7518 §3.3's floor for RS*/PS* keys.
const minRSABits = 2048

// compileAlgorithms checks a configured allow-list (RFC 8725 §3.1: the
// caller, not the token, picks the algorithms). Names are case-sensitive
// JWA names; "none" and unknown names are errors with their index.
func compileAlgorithms(names []string) (map[string]*algorithm, []string, error) {
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	m := make(map[string]*algorithm, len(names))
	var list []string
	for i, n := range names {
		if strings.EqualFold(n, "none") {
			return nil, nil, fmt.Errorf("allowed_algorithms[%d]: %q is never allowed (RFC 8725 §3.2)", i, n)
		}
		a, ok := algorithms[n]
		if !ok {
			return nil, nil, fmt.Errorf("allowed_algorithms[%d]: unknown algorithm %q", i, n)
		}
		if _, dup := m[n]; !dup {
			list = append(list, n)
		}
		m[n] = a
	}
	return m, slices.Clip(list), nil
}

// checkKey enforces RFC 8725 §3.1 "each key used with exactly one
// algorithm": the token's alg must fit the key's type and curve, and equal
// the JWK's alg when the JWK names one. This is what defeats key confusion
// (RFC 8725 §2.1): an HS256 token "signed" with the RSA public key's bytes
// as the HMAC secret meets an RSA key here and is refused before any HMAC
// is computed. The Go type of Key.Public is what decides, since it is what
// the signature check would use.
func checkKey(a *algorithm, k *jwks.Key) error {
	mismatch := func(why string) error {
		return errcode.New(errcode.AlgorithmNotAllowed, "alg %s cannot be used with key %q: %s", a.name, clip(k.ID), why).
			With("alg", a.name).With("kid", clip(k.ID)).With("kty", k.Type).With("key_alg", k.Alg)
	}
	if k.Alg != "" && k.Alg != a.name {
		return mismatch("the JWK is for " + k.Alg)
	}
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if a.family != famRSA {
			return mismatch("RSA key")
		}
		if bits := pub.N.BitLen(); bits < minRSABits {
			return mismatch(fmt.Sprintf("RSA key of %d bits, RFC 7518 §3.3 requires %d", bits, minRSABits))
		}
	case *ecdsa.PublicKey:
		if a.family != famEC {
			return mismatch("EC key")
		}
		if pub.Curve != a.curve {
			return mismatch("EC key on " + pub.Curve.Params().Name + ", the alg needs " + a.curve.Params().Name)
		}
	case ed25519.PublicKey:
		if a.family != famOKP {
			return mismatch("Ed25519 key")
		}
		if len(pub) != ed25519.PublicKeySize {
			return mismatch("Ed25519 key of the wrong size")
		}
	case []byte:
		if a.family != famHMAC {
			return mismatch("symmetric (oct) key")
		}
		if len(pub) < a.minKey {
			return mismatch(fmt.Sprintf("HMAC key of %d bytes, RFC 7518 §3.2 requires %d", len(pub), a.minKey))
		}
	default:
		return mismatch(fmt.Sprintf("unsupported key type %T", k.Public))
	}
	return nil
}

// clip bounds client-chosen strings (kid, alg, typ) echoed into log fields.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// Supported lists the algorithm names an allow-list may contain, sorted.
func Supported() []string {
	out := make([]string, 0, len(algorithms))
	for n := range algorithms {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
