// Package passwd parses, verifies and creates slow password hashes for the
// HTTP Basic authentication plugin.
//
// Stored hashes are parsed once, at configuration time, into a [Hash]; the
// per-request path only calls [Hash.Verify], which re-derives the key with
// the stored parameters and compares in constant time.
//
// Accepted formats (see [Parse]):
//
//	bcrypt         $2a$NN$<22 salt><31 hash>, also $2b$ and $2y$
//	argon2id       $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<b64 salt>$<b64 key>
//	pbkdf2-sha256  $pbkdf2-sha256$i=<iterations>$<b64 salt>$<b64 key>     (PHC style)
//	               $pbkdf2-sha256$<iterations>$<ab64 salt>$<ab64 key>     (passlib)
//
// Everything else is refused: plaintext and "{SHA}" style values with
// [ErrPlaintext], other "$scheme$" strings (md5-crypt "$1$", Apache "$apr1$",
// sha-crypt "$5$"/"$6$", argon2i/argon2d, bcrypt "$2x$" ...) with
// [ErrUnsupported]. Structural problems wrap [ErrMalformed] and parameters
// outside the limits this package is willing to spend CPU and memory on wrap
// [ErrBounds] (as a [*ParamError]). Error messages name the offending part
// and parameter values, but never echo salts or keys, so they are safe to log.
//
// For unknown users, verify the password against [Fake] (or [DefaultFake])
// so that "no such user" costs the same time as "wrong password".
package passwd

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by [Parse] and the Hash* functions wrap one
// of these; test with errors.Is.
var (
	// ErrPlaintext: the value does not start with '$', so it is not a
	// modular-crypt / PHC hash at all (plaintext, "{SHA}...", empty, ...).
	ErrPlaintext = errors.New("passwd: not a $scheme$ password hash (plaintext and {SCHEME} formats are not accepted)")
	// ErrUnsupported: a "$scheme$" string whose scheme or version this
	// package does not implement.
	ErrUnsupported = errors.New("passwd: unsupported hash scheme")
	// ErrMalformed: the scheme is known but the string does not follow its
	// format.
	ErrMalformed = errors.New("passwd: malformed hash")
	// ErrBounds: a cost parameter, salt or key length is outside the range
	// this package accepts. The concrete error is a *ParamError.
	ErrBounds = errors.New("passwd: hash parameter out of bounds")
	// ErrPasswordTooLong: bcrypt only uses the first 72 bytes of a password;
	// HashBcrypt refuses longer passwords rather than silently truncating.
	ErrPasswordTooLong = errors.New("passwd: password longer than 72 bytes cannot be hashed with bcrypt")
)

// ParamError reports a parameter outside the accepted range. It wraps
// [ErrBounds]; use errors.As to find out which parameter was wrong.
type ParamError struct {
	Scheme string // "bcrypt", "argon2id" or "pbkdf2-sha256"
	Param  string // e.g. "m", "t", "p", "i", "cost", "salt length", "key length"
	Value  int64
	Min    int64
	Max    int64
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("passwd: %s %s=%d out of bounds [%d, %d]", e.Scheme, e.Param, e.Value, e.Min, e.Max)
}

// Unwrap makes errors.Is(err, ErrBounds) true.
func (e *ParamError) Unwrap() error { return ErrBounds }

func checkRange(scheme, param string, v, lo, hi int64) error {
	if v < lo || v > hi {
		return &ParamError{Scheme: scheme, Param: param, Value: v, Min: lo, Max: hi}
	}
	return nil
}

func malformed(scheme, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, scheme, fmt.Sprintf(format, args...))
}

// Scheme names returned by [Hash.Scheme].
const (
	SchemeBcrypt       = "bcrypt"
	SchemeArgon2id     = "argon2id"
	SchemePBKDF2SHA256 = "pbkdf2-sha256"
)

// maxEncodedLen bounds the input to Parse. The longest legitimate string
// (argon2id with 64-byte salt and key and maximal parameters) is well under
// 256 bytes.
const maxEncodedLen = 512

// verifier is implemented by each scheme.
type verifier interface {
	verify(password []byte) bool
	encode() string
	scheme() string
	// fakeKey identifies the parameter set for the Fake cache.
	fakeKey() string
	// work is the estimated cost of one verification (cost.go).
	work() float64
	// fake returns a verifier with the same parameters, a random salt and a
	// random key.
	fake() verifier
}

// Hash is a parsed password hash. It is immutable and safe for concurrent
// use. The zero value and a nil *Hash verify nothing.
type Hash struct {
	v    verifier
	fake bool // Verify always answers false (after doing the work)
}

// Parse parses an encoded password hash. It does all validation up front so
// that Verify never fails for structural reasons. s must not contain
// surrounding whitespace.
func Parse(s string) (*Hash, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, ErrPlaintext
	}
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxEncodedLen)
	}
	rest := s[1:]
	i := strings.IndexByte(rest, '$')
	if i < 0 {
		return nil, fmt.Errorf("%w: missing '$' after scheme identifier", ErrMalformed)
	}
	id := rest[:i]
	var (
		v   verifier
		err error
	)
	switch id {
	case "":
		return nil, fmt.Errorf("%w: empty scheme identifier", ErrMalformed)
	case "2a", "2b", "2y":
		v, err = parseBcrypt(s)
	case "argon2id":
		v, err = parseArgon2id(s)
	case "pbkdf2-sha256":
		v, err = parsePBKDF2(s)
	default:
		if len(id) > 32 {
			id = id[:32] + "..."
		}
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, id)
	}
	if err != nil {
		return nil, err
	}
	return &Hash{v: v}, nil
}

// MustParse is like Parse but panics on error. Intended for tests and
// package-level variables holding literal hashes.
func MustParse(s string) *Hash {
	h, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return h
}

// Verify reports whether password matches h. It never panics and never
// returns early based on secret data: the key derivation always runs with the
// stored parameters and the comparison is constant-time. For bcrypt, passwords
// longer than 72 bytes are rejected (see bcrypt.go).
func (h *Hash) Verify(password []byte) bool {
	if h == nil || h.v == nil {
		return false
	}
	ok := h.v.verify(password)
	return ok && !h.fake
}

// Scheme returns "bcrypt", "argon2id" or "pbkdf2-sha256" ("" for a nil Hash).
func (h *Hash) Scheme() string {
	if h == nil || h.v == nil {
		return ""
	}
	return h.v.scheme()
}

// String returns the canonical encoding of h, which Parse accepts and which
// parses back to an identical Hash. It contains the salt and derived key but
// of course not the password. For bcrypt it is the input string; for argon2id
// and pbkdf2-sha256 base64 padding is dropped, and pbkdf2-sha256 keeps the
// dialect (PHC or passlib) it was parsed from.
func (h *Hash) String() string {
	if h == nil || h.v == nil {
		return ""
	}
	return h.v.encode()
}

// BcryptCost returns the bcrypt cost (log2 of the rounds) and true if h is a
// bcrypt hash. Callers may warn when it is below [DefaultBcryptCost].
func (h *Hash) BcryptCost() (int, bool) {
	if h == nil {
		return 0, false
	}
	b, ok := h.v.(*bcryptHash)
	if !ok {
		return 0, false
	}
	return b.cost, true
}

// Argon2Params returns the argon2id parameters (including salt and key
// lengths) and true if h is an argon2id hash.
func (h *Hash) Argon2Params() (Argon2Params, bool) {
	if h == nil {
		return Argon2Params{}, false
	}
	a, ok := h.v.(*argon2Hash)
	if !ok {
		return Argon2Params{}, false
	}
	return a.params, true
}

// PBKDF2Iterations returns the iteration count and true if h is a
// pbkdf2-sha256 hash.
func (h *Hash) PBKDF2Iterations() (int, bool) {
	if h == nil {
		return 0, false
	}
	p, ok := h.v.(*pbkdf2Hash)
	if !ok {
		return 0, false
	}
	return p.iterations, true
}
