// Package jwks parses JSON Web Key Sets (RFC 7517), finds the provider's
// key set through discovery (OpenID Connect Discovery 1.0, RFC 8414), and
// keeps remote key sets cached, refreshed and rate-limited.
package jwks

import "context"

// Key is one verification key from a JWKS, already parsed.
type Key struct {
	// ID is the JWK "kid" ("" when the JWK has none).
	ID string
	// Type is the JWK "kty": "RSA", "EC", "OKP" or "oct".
	Type string
	// Curve is the JWK "crv" for EC/OKP keys ("P-256", "P-384", "P-521", "Ed25519").
	Curve string
	// Alg is the JWK "alg" when the key states one, else "". When set, a
	// token's alg must equal it (RFC 8725 §3.1: one key, one algorithm).
	Alg string
	// Use is the JWK "use" ("sig", "enc" or ""); "enc" keys never verify tokens.
	Use string
	// Public is *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, or
	// []byte for an "oct" (HMAC) key, which only a static JWKS may carry.
	Public any
}

// Source finds the key a token names. Errors are *errcode.Error values:
// OAUTH_KEY_NOT_FOUND for an unknown kid (after the refresh the source
// allows), OAUTH_PROVIDER_* when the key set could not be fetched.
type Source interface {
	// Lookup returns the key with this kid; with kid "" it returns the only
	// key when the set has exactly one usable signing key.
	Lookup(ctx context.Context, kid string) (*Key, error)
}
