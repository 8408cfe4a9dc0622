package jwks

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// ErrMalformed is wrapped by every Parse failure. Parse cannot know where
// the set came from, so it returns a plain error: the caller wraps it as
// OAUTH_PROVIDER_INVALID_RESPONSE for a fetched set (RemoteSet does) or
// CONFIG_INVALID for a static one.
var ErrMalformed = errors.New("malformed JWKS")

// ErrNoUsableKeys: the set parsed but every key was skipped.
var ErrNoUsableKeys = fmt.Errorf("%w: no usable signing key", ErrMalformed)

const (
	minRSABits = 2048  // RFC 7518 §3.3: 2048 bits or larger MUST be used
	maxRSABits = 16384 // bounds the cost of one verification
)

// sigAlgs are the JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) a key of
// each type may state in "alg". A key stating anything else (RSA-OAEP,
// ECDH-ES, …) is not a signature key and is skipped.
var sigAlgs = map[string][]string{
	"RSA":     {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
	"P-256":   {"ES256"},
	"P-384":   {"ES384"},
	"P-521":   {"ES512"},
	"Ed25519": {"EdDSA", "Ed25519"},
	"oct":     {"HS256", "HS384", "HS512"},
}

var curves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// Parse reads an RFC 7517 §5 JWK Set. Supported keys: RSA (RFC 7518 §6.3,
// modulus ≥ 2048 bits), EC P-256/P-384/P-521 (RFC 7518 §6.2, the point must
// be on the curve), OKP Ed25519 (RFC 8037 §2) and, only when allowOct,
// oct (RFC 7518 §6.4) — a symmetric key must never come from a remote set,
// or anyone who can serve the set can mint tokens (RFC 8725 §3.1).
//
// Keys that are not for us are skipped, not fatal, and the reason is kept
// in Set.Skipped for the operator log: "use":"enc" or key_ops without
// "verify" (RFC 7517 §4.2, §4.3), an unknown kty or curve, an "alg" that is
// not a signature algorithm for the key, a weak or oversized RSA modulus,
// oct keys when !allowOct, and keys that carry private material ("d"),
// which are compromised by being published.
//
// The whole set fails, with an error wrapping ErrMalformed, when the data
// is not a JSON object with a "keys" array, a supported key is malformed
// (missing member, bad base64url, point off the curve, …), two keys share
// kid and kty but differ in material, or no usable key remains
// (ErrNoUsableKeys).
func Parse(data []byte, allowOct bool) (*Set, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %v", ErrMalformed, err)
	}
	raw, ok := doc["keys"]
	if !ok {
		return nil, fmt.Errorf(`%w: no "keys" member (RFC 7517 §5.1)`, ErrMalformed)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil || entries == nil {
		return nil, fmt.Errorf(`%w: "keys" is not an array`, ErrMalformed)
	}

	set := &Set{byID: map[string]*Key{}}
	type seenKey struct{ kid, kty string }
	seen := map[seenKey]int{}
	for i, entry := range entries {
		k, skip, err := parseKey(entry, allowOct)
		where := fmt.Sprintf("keys[%d]", i)
		if k != nil && k.ID != "" {
			where += fmt.Sprintf(" (kid %s)", quoteKid(k.ID))
		}
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, where, err)
		case skip != "":
			set.Skipped = append(set.Skipped, where+": "+skip)
			continue
		}
		if k.ID != "" {
			sk := seenKey{k.ID, k.Type}
			if j, dup := seen[sk]; dup {
				if !samePublic(set.Keys[j].Public, k.Public) {
					// RFC 7517 §4.5: kids distinguish keys. Two different
					// keys under one kid make the choice ambiguous.
					return nil, fmt.Errorf("%w: %s: duplicate kid and kty %s with different key material", ErrMalformed, where, k.Type)
				}
				set.Skipped = append(set.Skipped, fmt.Sprintf("%s: duplicate of an earlier key", where))
				continue
			}
			seen[sk] = len(set.Keys)
			if _, ok := set.byID[k.ID]; !ok {
				set.byID[k.ID] = k
			}
		}
		set.Keys = append(set.Keys, k)
	}
	if len(set.Keys) == 0 {
		if len(set.Skipped) == 0 {
			return nil, fmt.Errorf("%w: the set is empty", ErrNoUsableKeys)
		}
		return nil, fmt.Errorf("%w: skipped %s", ErrNoUsableKeys, strings.Join(set.Skipped, "; "))
	}
	return set, nil
}

// parseKey returns the key, or a reason to skip it, or an error.
func parseKey(raw json.RawMessage, allowOct bool) (*Key, string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, "", errors.New("not a JSON object")
	}
	mem := members(m)
	kty, ok := mem.str("kty")
	if !ok {
		return nil, "", or(mem.err, missing("kty", "RFC 7517 §4.1"))
	}
	k := &Key{Type: kty}
	k.ID, _ = mem.str("kid")
	k.Use, _ = mem.str("use")
	k.Alg, _ = mem.str("alg")
	if mem.err != nil {
		return k, "", mem.err
	}
	if k.Use != "" && k.Use != "sig" {
		return k, fmt.Sprintf("use %q, not a signature key (RFC 7517 §4.2)", k.Use), nil
	}
	ops, hasOps := mem.strings("key_ops")
	if mem.err != nil {
		return k, "", mem.err
	}
	if hasOps && !slices.Contains(ops, "verify") {
		return k, `key_ops without "verify" (RFC 7517 §4.3)`, nil
	}
	if _, private := m["d"]; private {
		return k, `carries private key material ("d"): a published private key is compromised`, nil
	}

	algKey := kty // which sigAlgs entry applies
	switch kty {
	case "RSA":
	case "EC", "OKP":
		crv, ok := mem.str("crv")
		if !ok {
			return k, "", or(mem.err, missing("crv", "RFC 7518 §6.2.1.1, RFC 8037 §2"))
		}
		k.Curve = crv
		_, isEC := curves[crv]
		if (kty == "EC" && !isEC) || (kty == "OKP" && crv != "Ed25519") {
			return k, fmt.Sprintf("unsupported %s curve %q", kty, crv), nil
		}
		algKey = crv
	case "oct":
		if !allowOct {
			return k, "symmetric (oct) key not accepted from a remote key set", nil
		}
	default:
		return k, fmt.Sprintf("unsupported kty %q", kty), nil
	}
	if k.Alg != "" && !slices.Contains(sigAlgs[algKey], k.Alg) {
		return k, fmt.Sprintf("alg %q is not a signature algorithm for this %s key (RFC 8725 §3.1)", k.Alg, kty), nil
	}

	var skip string
	var err error
	switch kty {
	case "RSA":
		k.Public, skip, err = rsaKey(mem)
	case "EC":
		k.Public, err = ecKey(mem, k.Curve)
	case "OKP":
		k.Public, err = okpKey(mem)
	case "oct":
		k.Public, err = octKey(mem, k.Alg)
	}
	return k, skip, err
}

// rsaKey reads n and e (RFC 7518 §6.3.1).
func rsaKey(mem *memberReader) (any, string, error) {
	n, err := mem.b64("n")
	if err != nil {
		return nil, "", err
	}
	e, err := mem.b64("e")
	if err != nil {
		return nil, "", err
	}
	N := new(big.Int).SetBytes(n)
	if N.Bit(0) == 0 {
		return nil, "", errors.New(`"n" is not an odd modulus`)
	}
	e = bytes.TrimLeft(e, "\x00")
	if len(e) == 0 || len(e) > 4 {
		return nil, "", fmt.Errorf(`"e" is %d bytes, want 1 to 4`, len(e))
	}
	E := new(big.Int).SetBytes(e).Int64()
	if E < 3 || E%2 == 0 || E > 1<<31-1 {
		return nil, "", fmt.Errorf(`"e" = %d is not a valid public exponent`, E)
	}
	switch bits := N.BitLen(); {
	case bits < minRSABits:
		return nil, fmt.Sprintf("RSA modulus of %d bits, minimum %d (RFC 7518 §3.3)", bits, minRSABits), nil
	case bits > maxRSABits:
		return nil, fmt.Sprintf("RSA modulus of %d bits, maximum %d", bits, maxRSABits), nil
	}
	return &rsa.PublicKey{N: N, E: int(E)}, "", nil
}

// ecKey reads x and y, each the full coordinate size (RFC 7518 §6.2.1.2,
// §6.2.1.3), and checks the point is on the curve: an off-curve point is
// the invalid-curve attack's way in.
func ecKey(mem *memberReader, crv string) (any, error) {
	curve := curves[crv]
	size := (curve.Params().BitSize + 7) / 8
	x, err := mem.b64("x")
	if err != nil {
		return nil, err
	}
	y, err := mem.b64("y")
	if err != nil {
		return nil, err
	}
	if len(x) != size || len(y) != size {
		return nil, fmt.Errorf(`"x" and "y" are %d and %d bytes, want %d for %s`, len(x), len(y), size, crv)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, slices.Concat([]byte{4}, x, y))
	if err != nil {
		return nil, fmt.Errorf("point is not on curve %s", crv)
	}
	return pub, nil
}

// okpKey reads an Ed25519 public key (RFC 8037 §2: "x", 32 bytes).
func okpKey(mem *memberReader) (any, error) {
	x, err := mem.b64("x")
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf(`"x" is %d bytes, want %d for Ed25519`, len(x), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(x), nil
}

// octKey reads a symmetric key (RFC 7518 §6.4.1), at least as long as the
// hash of its algorithm (RFC 7518 §3.2), 256 bits when alg is not stated.
func octKey(mem *memberReader, alg string) (any, error) {
	k, err := mem.b64("k")
	if err != nil {
		return nil, err
	}
	min := map[string]int{"HS384": 48, "HS512": 64}[alg]
	if min == 0 {
		min = 32
	}
	if len(k) < min {
		return nil, fmt.Errorf("oct key of %d bytes, at least %d required (RFC 7518 §3.2)", len(k), min)
	}
	return k, nil
}

func samePublic(a, b any) bool {
	switch a := a.(type) {
	case *rsa.PublicKey:
		return a.Equal(b)
	case *ecdsa.PublicKey:
		return a.Equal(b)
	case ed25519.PublicKey:
		return a.Equal(b)
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	}
	return false
}

// memberReader reads typed members of one JWK, remembering the first type
// error.
type memberReader struct {
	m   map[string]json.RawMessage
	err error
}

func members(m map[string]json.RawMessage) *memberReader { return &memberReader{m: m} }

// str returns a string member; ok is false when absent or not a string
// (the latter also sets err).
func (r *memberReader) str(name string) (string, bool) {
	raw, present := r.m[name]
	if !present {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("member %q is not a string", name)
		}
		return "", false
	}
	return s, true
}

func (r *memberReader) strings(name string) ([]string, bool) {
	raw, present := r.m[name]
	if !present {
		return nil, false
	}
	var s []string
	if err := json.Unmarshal(raw, &s); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("member %q is not an array of strings", name)
		}
		return nil, true
	}
	return s, true
}

// b64 decodes a required base64url member (RFC 7515 §2: no padding; a
// trailing "=" is tolerated because some providers emit it).
func (r *memberReader) b64(name string) ([]byte, error) {
	s, ok := r.str(name)
	if !ok {
		return nil, or(r.err, missing(name, "RFC 7518 §6"))
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("member %q: bad base64url: %v", name, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("member %q is empty", name)
	}
	return b, nil
}

func missing(name, spec string) error {
	return fmt.Errorf("missing required member %q (%s)", name, spec)
}

func or(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// maxKidLog bounds a kid in a log line: kids in tokens are attacker-chosen.
const maxKidLog = 64

// quoteKid quotes a kid for a log line, bounded.
func quoteKid(kid string) string {
	if len(kid) > maxKidLog {
		return fmt.Sprintf("%q…", kid[:maxKidLog])
	}
	return fmt.Sprintf("%q", kid)
}

func boundKid(kid string) string {
	if len(kid) > maxKidLog {
		return kid[:maxKidLog] + "…"
	}
	return kid
}
