package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

var b64 = base64.RawURLEncoding

// Thumbprint is the RFC 7638 JWK SHA-256 thumbprint of a public key,
// base64url without padding: the value of cnf.jkt (RFC 9449 §6.1).
//
// RFC 7638 §3.2 hashes only the required members, in lexicographic order,
// with no whitespace: {"e","kty","n"} for RSA, {"crv","kty","x","y"} for
// EC, {"crv","kty","x"} for OKP (RFC 8037 §2). The member values are
// re-encoded from the parsed key in their canonical form (RFC 7518
// §6.3.1.1: no leading zero octets in n and e; §6.2.1.2: x and y the full
// size of the curve's field; RFC 7638 §3.3), so that a client that pads
// its modulus cannot make one key have two thumbprints. Base64url text
// needs no JSON escaping.
func Thumbprint(k *jwks.Key) (string, error) {
	var doc string
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		doc = `{"e":"` + b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64.EncodeToString(pub.N.Bytes()) + `"}`
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		doc = `{"crv":"` + pub.Curve.Params().Name + `","kty":"EC","x":"` + b64.EncodeToString(x) + `","y":"` + b64.EncodeToString(y) + `"}`
	case ed25519.PublicKey:
		doc = `{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(pub) + `"}`
	default:
		return "", fmt.Errorf("no RFC 7638 thumbprint for key type %T", k.Public)
	}
	sum := sha256.Sum256([]byte(doc))
	return b64.EncodeToString(sum[:]), nil
}

// TokenHash is the ath of an access token (RFC 9449 §4.2): the base64url
// SHA-256 of its ASCII bytes.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:])
}
