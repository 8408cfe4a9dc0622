// Package secret holds the small helpers every plugin uses around
// credentials: fingerprints for logs and constant-time comparison.
package secret

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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
