// Package secret holds the small helpers every plugin uses around
// credentials: fingerprints for logs and constant-time comparison.
package secret

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// Fingerprint returns the first 8 hex characters of SHA-256(s): enough for an
// operator to tell two credentials apart in a log, useless to an attacker.
// Secrets (tokens, keys, passwords, codes) are never logged; this is.
func Fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// Equal compares a and b in constant time (for equal lengths).
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// Key is the SHA-256 of the fields, each prefixed with its length, for
// cache keys: no two different field lists collide by concatenation (a
// cache key that joined password and salt without a delimiter gave
// Traefik two advisories), and no secret is kept in the clear.
func Key(fields ...string) [32]byte {
	h := sha256.New()
	WriteFields(h, fields...)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// WriteFields writes each field to h prefixed with its length (as Key
// does), for MACs over several fields.
func WriteFields(h hash.Hash, fields ...string) {
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
}
