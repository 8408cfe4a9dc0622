package passwd

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt limits.
//
// Parse accepts every cost bcrypt defines (4..31) so that existing htpasswd
// files keep working; callers should use [Hash.BcryptCost] to warn about
// costs below [DefaultBcryptCost] (OWASP Password Storage Cheat Sheet: "a
// work factor of 10 or more"), and about very high costs, which make every
// request expensive.
const (
	MinBcryptCost     = bcrypt.MinCost // 4
	MaxBcryptCost     = bcrypt.MaxCost // 31
	DefaultBcryptCost = 12

	// MaxBcryptPasswordLen is the number of password bytes bcrypt uses.
	MaxBcryptPasswordLen = 72
)

// bcryptEncoding is bcrypt's own base64 alphabet (not RFC 4648 order).
var bcryptEncoding = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

type bcryptHash struct {
	encoded string // the full 60-byte modular crypt string
	cost    int
}

// parseBcrypt validates "$2a$", "$2b$" or "$2y$" hashes. The three prefixes
// denote the same algorithm for the Go implementation ($2y$ is PHP/htpasswd's
// name for the fixed $2a$, $2b$ OpenBSD's); "$2x$" (the buggy crypt_blowfish
// variant) and "$2$" are not accepted.
func parseBcrypt(s string) (verifier, error) {
	// $2a$10$ + 22 salt + 31 hash
	if len(s) != 60 {
		return nil, malformed(SchemeBcrypt, "length %d, want 60", len(s))
	}
	if s[6] != '$' {
		return nil, malformed(SchemeBcrypt, "missing '$' after cost")
	}
	costStr := s[4:6]
	if costStr[0] < '0' || costStr[0] > '9' || costStr[1] < '0' || costStr[1] > '9' {
		return nil, malformed(SchemeBcrypt, "cost is not two decimal digits")
	}
	cost, _ := strconv.Atoi(costStr)
	if err := checkRange(SchemeBcrypt, "cost", int64(cost), int64(MinBcryptCost), int64(MaxBcryptCost)); err != nil {
		return nil, err
	}
	// Only the alphabet is checked: unused trailing bits are ignored by
	// every bcrypt implementation, and some hand-made salts set them.
	if !isBcryptB64(s[7:29]) {
		return nil, malformed(SchemeBcrypt, "salt is not bcrypt base64")
	}
	if !isBcryptB64(s[29:]) {
		return nil, malformed(SchemeBcrypt, "hash is not bcrypt base64")
	}
	return &bcryptHash{encoded: s, cost: cost}, nil
}

func isBcryptB64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// verify: bcrypt only uses the first 72 bytes of the password. The x/crypto
// version this module uses (v0.59.0) silently ignores the excess in
// CompareHashAndPassword (only GenerateFromPassword returns
// ErrPasswordTooLong), which would let "<72 correct bytes>anything" log in.
// Since HashBcrypt refuses such passwords, and newer x/crypto versions
// reject them too, Verify answers false for passwords longer than 72 bytes
// (without doing the bcrypt work, which reveals nothing: the length is the
// caller's own input). Hashes created elsewhere from longer passwords (e.g.
// htpasswd, which truncates) therefore do not verify with the full password.
func (b *bcryptHash) verify(password []byte) bool {
	if len(password) > MaxBcryptPasswordLen {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(b.encoded), password) == nil
}

func (b *bcryptHash) encode() string  { return b.encoded }
func (b *bcryptHash) scheme() string  { return SchemeBcrypt }
func (b *bcryptHash) fakeKey() string { return fmt.Sprintf("bcrypt/%d", b.cost) }

// fake builds a well-formed bcrypt string with a random 16-byte salt and a
// random 23-byte "hash", so that verifying against it runs the full
// 2^cost key schedule without any password being able to match.
func (b *bcryptHash) fake() verifier {
	return newFakeBcrypt(b.cost)
}

func newFakeBcrypt(cost int) *bcryptHash {
	salt := make([]byte, 16)
	sum := make([]byte, 23)
	rand.Read(salt)
	rand.Read(sum)
	s := fmt.Sprintf("$2a$%02d$%s%s", cost, bcryptEncoding.EncodeToString(salt), bcryptEncoding.EncodeToString(sum))
	return &bcryptHash{encoded: s, cost: cost}
}

// HashBcrypt hashes password with bcrypt at the given cost ([MinBcryptCost]
// ..[MaxBcryptCost]; 0 means [DefaultBcryptCost]). The result uses the "$2a$"
// prefix, which htpasswd, PHP and every bcrypt verifier accept.
//
// Passwords longer than 72 bytes are refused with [ErrPasswordTooLong]:
// bcrypt would silently ignore the excess. Use argon2id for long passphrases.
func HashBcrypt(password []byte, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	// x/crypto silently replaces a cost below 4 with 10; check ourselves.
	if err := checkRange(SchemeBcrypt, "cost", int64(cost), int64(MinBcryptCost), int64(MaxBcryptCost)); err != nil {
		return "", err
	}
	if len(password) > MaxBcryptPasswordLen {
		return "", ErrPasswordTooLong
	}
	out, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		if errors.Is(err, bcrypt.ErrPasswordTooLong) {
			return "", ErrPasswordTooLong
		}
		return "", fmt.Errorf("passwd: bcrypt: %w", err)
	}
	return string(out), nil
}
