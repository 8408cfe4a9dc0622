package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// Signer makes DPoP proofs: the client side of RFC 9449 §4.2, for tests,
// examples and the dpop-proof helper (cmd/dpop-proof). A gateway never
// needs it.
type Signer struct {
	key crypto.Signer
	alg string
	// JWK is the public key as the proof's jwk header carries it.
	JWK   map[string]any
	thumb string
}

// NewSigner wraps an EC (P-256, P-384, P-521), RSA (≥ 2048 bits; signs
// RS256 unless alg says PS256…) or Ed25519 private key. alg "" picks
// ES256/ES384/ES512, RS256 or EdDSA by key.
func NewSigner(key crypto.Signer, alg string) (*Signer, error) {
	s := &Signer{key: key}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		k.X.FillBytes(x)
		k.Y.FillBytes(y)
		s.JWK = map[string]any{"kty": "EC", "crv": k.Curve.Params().Name, "x": b64.EncodeToString(x), "y": b64.EncodeToString(y)}
		s.alg = map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[k.Curve.Params().Name]
	case *rsa.PrivateKey:
		s.JWK = map[string]any{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
		s.alg = "RS256"
	case ed25519.PrivateKey:
		s.JWK = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k.Public().(ed25519.PublicKey))}
		s.alg = "EdDSA"
	default:
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	if alg != "" {
		s.alg = alg
	}
	if algorithms[s.alg] == nil {
		return nil, errors.New("no proof algorithm for this key")
	}
	raw, err := jsonMarshal(s.JWK)
	if err != nil {
		return nil, err
	}
	pub, err := jwks.ParsePublicKey(raw)
	if err != nil {
		return nil, err
	}
	if why := algorithms[s.alg].fits(pub.Type, pub.Public); why != "" {
		return nil, errors.New(why)
	}
	if s.thumb, err = Thumbprint(pub); err != nil {
		return nil, err
	}
	return s, nil
}

// Alg is the proof's JWS algorithm.
func (s *Signer) Alg() string { return s.alg }

// Thumbprint is the key's RFC 7638 thumbprint: the cnf.jkt of tokens bound
// to it.
func (s *Signer) Thumbprint() string { return s.thumb }

// Proof makes a proof for one request: a random jti, iat now, ath of the
// access token when one is given, and the nonce when one is given.
func (s *Signer) Proof(method, uri, accessToken, nonce string) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	c := map[string]any{"jti": b64.EncodeToString(id[:]), "htm": method, "htu": uri, "iat": time.Now().Unix()}
	if accessToken != "" {
		c["ath"] = TokenHash(accessToken)
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return s.Sign(nil, c)
}

// Sign signs any claims with header members on top of typ, alg and jwk
// (a nil value removes one): for tests of malformed proofs.
func (s *Signer) Sign(header, claims map[string]any) (string, error) {
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(s.alg), jwt.MapClaims(claims))
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = s.JWK
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	return tok.SignedString(s.key)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
