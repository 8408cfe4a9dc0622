package passwd

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// PBKDF2 (RFC 8018, section 5.2) with HMAC-SHA-256 as the PRF. It is not
// memory-hard, so prefer argon2id for new hashes; it is supported for
// FIPS-constrained deployments and for hashes exported from passlib-based
// systems.
const (
	// DefaultPBKDF2Iterations is the OWASP Password Storage Cheat Sheet
	// (2023) figure for PBKDF2-HMAC-SHA256: 600,000 iterations.
	DefaultPBKDF2Iterations = 600_000
	MinPBKDF2Iterations     = 1_000 // RFC 8018 section 4.2: "A minimum of 1,000 iterations is recommended."
	MaxPBKDF2Iterations     = 10_000_000

	pbkdf2SaltLen = 16 // bytes; RFC 8018 section 4.1 asks for at least 8
	pbkdf2KeyLen  = 32 // = SHA-256 output, one PBKDF2 block
)

type pbkdf2Hash struct {
	iterations int
	salt, key  []byte
	passlib    bool // encoded in passlib's dialect rather than PHC style
}

// parsePBKDF2 accepts two spellings of the same thing:
//
//	PHC style: $pbkdf2-sha256$i=600000$<salt>$<key>   standard base64, unpadded (padding accepted)
//	passlib:   $pbkdf2-sha256$29000$<salt>$<key>      passlib "ab64": standard base64 with '.' for '+', unpadded
//
// They are told apart by the "i=" prefix of the rounds field. String keeps
// the dialect the hash was parsed in; HashPBKDF2 writes PHC style.
func parsePBKDF2(s string) (verifier, error) {
	const sch = SchemePBKDF2SHA256
	parts := strings.Split(s, "$")
	// "", "pbkdf2-sha256", rounds, salt, key
	if len(parts) != 5 {
		return nil, malformed(sch, "want 4 '$'-separated fields after the leading '$', got %d", len(parts)-1)
	}
	h := &pbkdf2Hash{}
	rounds, isPHC := strings.CutPrefix(parts[2], "i=")
	h.passlib = !isPHC
	n, err := parseDecimal(rounds)
	if err != nil {
		return nil, malformed(sch, "iterations: %v (want i=<n> or <n>)", err)
	}
	if err := checkRange(sch, "i", n, MinPBKDF2Iterations, MaxPBKDF2Iterations); err != nil {
		return nil, err
	}
	h.iterations = int(n)
	decode := decodeB64
	if h.passlib {
		decode = decodeAB64
	}
	if h.salt, err = decode(parts[3]); err != nil {
		return nil, malformed(sch, "salt: %v", err)
	}
	if h.key, err = decode(parts[4]); err != nil {
		return nil, malformed(sch, "hash: %v", err)
	}
	if err := checkRange(sch, "salt length", int64(len(h.salt)), MinSaltLen, MaxSaltLen); err != nil {
		return nil, err
	}
	if err := checkRange(sch, "key length", int64(len(h.key)), MinKeyLen, MaxKeyLen); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *pbkdf2Hash) verify(password []byte) bool {
	dk, err := pbkdf2.Key(sha256.New, string(password), h.salt, h.iterations, len(h.key))
	if err != nil { // only in FIPS 140-only mode with non-approved parameters
		return false
	}
	return subtle.ConstantTimeCompare(dk, h.key) == 1
}

func (h *pbkdf2Hash) encode() string {
	if h.passlib {
		return fmt.Sprintf("$pbkdf2-sha256$%d$%s$%s", h.iterations, encodeAB64(h.salt), encodeAB64(h.key))
	}
	return fmt.Sprintf("$pbkdf2-sha256$i=%d$%s$%s", h.iterations, encodeB64(h.salt), encodeB64(h.key))
}

func (h *pbkdf2Hash) scheme() string { return SchemePBKDF2SHA256 }

func (h *pbkdf2Hash) fakeKey() string {
	return fmt.Sprintf("pbkdf2-sha256/i=%d,s=%d,k=%d,passlib=%t", h.iterations, len(h.salt), len(h.key), h.passlib)
}

func (h *pbkdf2Hash) fake() verifier {
	f := &pbkdf2Hash{
		iterations: h.iterations,
		salt:       make([]byte, len(h.salt)),
		key:        make([]byte, len(h.key)),
		passlib:    h.passlib,
	}
	rand.Read(f.salt)
	rand.Read(f.key)
	return f
}

// HashPBKDF2 derives a 32-byte PBKDF2-HMAC-SHA256 key (RFC 8018) from
// password with a random 16-byte salt and returns it in PHC style,
// $pbkdf2-sha256$i=<iterations>$<salt>$<key> (unpadded standard base64).
// iterations must be in [MinPBKDF2Iterations, MaxPBKDF2Iterations]; 0 means
// [DefaultPBKDF2Iterations].
func HashPBKDF2(password []byte, iterations int) (string, error) {
	if iterations == 0 {
		iterations = DefaultPBKDF2Iterations
	}
	if err := checkRange(SchemePBKDF2SHA256, "i", int64(iterations), MinPBKDF2Iterations, MaxPBKDF2Iterations); err != nil {
		return "", err
	}
	salt := make([]byte, pbkdf2SaltLen)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, pbkdf2KeyLen)
	if err != nil {
		return "", fmt.Errorf("passwd: pbkdf2: %w", err)
	}
	h := &pbkdf2Hash{iterations: iterations, salt: salt, key: key}
	return h.encode(), nil
}
