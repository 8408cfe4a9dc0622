package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// algorithm binds a JWS algorithm to the only key type that may verify it
// (RFC 8725 §3.1: one key, one algorithm).
type algorithm struct {
	name   string
	kty    string         // JWK kty of the key
	curve  elliptic.Curve // EC only
	method jwt.SigningMethod
}

// algorithms are the asymmetric JWS algorithms a proof may use (RFC 9449
// §4.3 (5): "an asymmetric digital signature algorithm"; "none" and MACs
// never, since the verifier would hold the signing key).
var algorithms = map[string]*algorithm{
	"RS256": {"RS256", "RSA", nil, jwt.SigningMethodRS256},
	"RS384": {"RS384", "RSA", nil, jwt.SigningMethodRS384},
	"RS512": {"RS512", "RSA", nil, jwt.SigningMethodRS512},
	"PS256": {"PS256", "RSA", nil, jwt.SigningMethodPS256},
	"PS384": {"PS384", "RSA", nil, jwt.SigningMethodPS384},
	"PS512": {"PS512", "RSA", nil, jwt.SigningMethodPS512},
	"ES256": {"ES256", "EC", elliptic.P256(), jwt.SigningMethodES256},
	"ES384": {"ES384", "EC", elliptic.P384(), jwt.SigningMethodES384},
	"ES512": {"ES512", "EC", elliptic.P521(), jwt.SigningMethodES512},
	"EdDSA": {"EdDSA", "OKP", nil, jwt.SigningMethodEdDSA},
}

// DefaultAlgorithms are the proof algorithms accepted when none are
// configured: the asymmetric algorithms authkit-oauth accepts for access
// tokens by default.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

// Asymmetric keeps the names of names that a proof may use, in order,
// without duplicates: the default of dpop_allowed_algs is the token
// allow-list without its HMAC entries.
func Asymmetric(names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := algorithms[n]; ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// compileAlgorithms checks a configured list: "none" and MACs are refused
// by name (RFC 9449 §4.3 (5)), unknown names too, each with its index.
func compileAlgorithms(field string, names []string) (map[string]*algorithm, []string, error) {
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	m := make(map[string]*algorithm, len(names))
	var list []string
	for i, n := range names {
		switch {
		case strings.EqualFold(n, "none"):
			return nil, nil, fmt.Errorf("%s[%d]: %q is never allowed for proofs (RFC 9449 §4.3, RFC 8725 §3.2)", field, i, n)
		case strings.HasPrefix(strings.ToUpper(n), "HS"):
			return nil, nil, fmt.Errorf("%s[%d]: %q is a MAC; proofs must be signed with an asymmetric algorithm (RFC 9449 §4.3)", field, i, n)
		}
		a, ok := algorithms[n]
		if !ok {
			return nil, nil, fmt.Errorf("%s[%d]: unknown or unsupported algorithm %q", field, i, n)
		}
		if _, dup := m[n]; !dup {
			list = append(list, n)
		}
		m[n] = a
	}
	return m, slices.Clip(list), nil
}

// fits reports why the key cannot verify alg, or "" when it can.
func (a *algorithm) fits(kty string, pub any) string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if a.kty != "RSA" {
			return "an RSA key cannot verify " + a.name
		}
	case *ecdsa.PublicKey:
		if a.kty != "EC" {
			return "an EC key cannot verify " + a.name
		}
		if p.Curve != a.curve {
			return fmt.Sprintf("%s needs curve %s, the key is on %s", a.name, a.curve.Params().Name, p.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if a.kty != "OKP" {
			return "an Ed25519 key cannot verify " + a.name
		}
	default:
		return fmt.Sprintf("unsupported key type %s", kty)
	}
	return ""
}
