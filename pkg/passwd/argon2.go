package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters (RFC 9106, section 3.1) plus
// the salt and key lengths used when creating a hash.
type Argon2Params struct {
	Memory  uint32 // m: memory in KiB
	Time    uint32 // t: number of passes
	Threads uint8  // p: degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // tag (derived key) length in bytes
}

// DefaultArgon2Params follow the OWASP Password Storage Cheat Sheet
// (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html):
// "Use Argon2id with a minimum configuration of 19 MiB of memory, an
// iteration count of 2, and 1 degree of parallelism." The 16-byte salt is
// what RFC 9106 section 3.1 recommends for password hashing, and a 32-byte
// tag is ample. These are cheaper than RFC 9106's own recommendations
// (section 4: 2 GiB or 64 MiB), which would be too costly to run on every
// request of a gateway.
var DefaultArgon2Params = Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// argon2id limits enforced by Parse and HashArgon2id. A hash string is
// configuration input; without upper bounds one line of config could make
// every request allocate gigabytes or loop for seconds.
const (
	MinArgon2Memory  = 8       // KiB; RFC 9106 also requires m >= 8*p
	MaxArgon2Memory  = 1 << 20 // KiB = 1 GiB
	MinArgon2Time    = 1
	MaxArgon2Time    = 10
	MinArgon2Threads = 1
	MaxArgon2Threads = 64
	MinSaltLen       = 8 // bytes; RFC 9106 and RFC 8018 minimum
	MaxSaltLen       = 64
	MinKeyLen        = 16 // bytes
	MaxKeyLen        = 64
)

// argon2Version is the only version x/crypto/argon2 implements (0x13).
const argon2Version = argon2.Version // 19

type argon2Hash struct {
	params    Argon2Params
	salt, key []byte
}

// Validate checks p against the limits above.
func (p Argon2Params) Validate() error {
	const s = SchemeArgon2id
	if err := checkRange(s, "t", int64(p.Time), MinArgon2Time, MaxArgon2Time); err != nil {
		return err
	}
	if err := checkRange(s, "p", int64(p.Threads), MinArgon2Threads, MaxArgon2Threads); err != nil {
		return err
	}
	// RFC 9106 section 3.1: m must be at least 8*p KiB. x/crypto would
	// silently raise m instead, producing tags no other implementation
	// agrees with.
	minMem := max(int64(MinArgon2Memory), 8*int64(p.Threads))
	if err := checkRange(s, "m", int64(p.Memory), minMem, MaxArgon2Memory); err != nil {
		return err
	}
	if err := checkRange(s, "salt length", int64(p.SaltLen), MinSaltLen, MaxSaltLen); err != nil {
		return err
	}
	return checkRange(s, "key length", int64(p.KeyLen), MinKeyLen, MaxKeyLen)
}

// parseArgon2id parses the PHC string produced by the reference
// implementation (RFC 9106 is the algorithm; the encoding is the PHC string
// format): $argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>. Only argon2id
// (RFC 9106 section 4: "Argon2id MUST be supported", the variant recommended
// for password hashing) and version 19 are accepted; the optional keyid and
// data parameters are not.
func parseArgon2id(s string) (verifier, error) {
	const sch = SchemeArgon2id
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		return nil, fmt.Errorf("%w: argon2id without v= field is version 16; only v=19 is supported", ErrUnsupported)
	}
	if len(parts) != 6 {
		return nil, malformed(sch, "want 5 '$'-separated fields after the leading '$', got %d", len(parts)-1)
	}
	vs, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return nil, malformed(sch, "version field must be v=19")
	}
	v, err := parseDecimal(vs)
	if err != nil {
		return nil, malformed(sch, "version: %v", err)
	}
	if v != argon2Version {
		return nil, fmt.Errorf("%w: argon2id version %d (only v=19 is supported)", ErrUnsupported, v)
	}

	var m, t, p int64 = -1, -1, -1
	for _, kv := range strings.Split(parts[3], ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, malformed(sch, "parameter %q is not key=value", truncate(kv))
		}
		var dst *int64
		switch k {
		case "m":
			dst = &m
		case "t":
			dst = &t
		case "p":
			dst = &p
		default:
			return nil, malformed(sch, "unknown parameter %q (want m, t, p)", truncate(k))
		}
		if *dst != -1 {
			return nil, malformed(sch, "duplicate parameter %q", k)
		}
		n, err := parseDecimal(val)
		if err != nil {
			return nil, malformed(sch, "parameter %s: %v", k, err)
		}
		*dst = n
	}
	for _, x := range []struct {
		name string
		v    int64
	}{{"m", m}, {"t", t}, {"p", p}} {
		if x.v == -1 {
			return nil, malformed(sch, "missing parameter %s", x.name)
		}
	}
	// Range-check in int64 before narrowing to the uint types.
	if err := checkRange(sch, "t", t, MinArgon2Time, MaxArgon2Time); err != nil {
		return nil, err
	}
	if err := checkRange(sch, "p", p, MinArgon2Threads, MaxArgon2Threads); err != nil {
		return nil, err
	}
	if err := checkRange(sch, "m", m, max(MinArgon2Memory, 8*p), MaxArgon2Memory); err != nil {
		return nil, err
	}

	salt, err := decodeB64(parts[4])
	if err != nil {
		return nil, malformed(sch, "salt: %v", err)
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return nil, malformed(sch, "hash: %v", err)
	}
	params := Argon2Params{
		Memory: uint32(m), Time: uint32(t), Threads: uint8(p),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key)),
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	return &argon2Hash{params: params, salt: salt, key: key}, nil
}

func truncate(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}

func (a *argon2Hash) verify(password []byte) bool {
	p := a.params
	dk := argon2.IDKey(password, a.salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(dk, a.key) == 1
}

func (a *argon2Hash) encode() string {
	p := a.params
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Time, p.Threads, encodeB64(a.salt), encodeB64(a.key))
}

func (a *argon2Hash) scheme() string { return SchemeArgon2id }

func (a *argon2Hash) fakeKey() string {
	p := a.params
	return fmt.Sprintf("argon2id/m=%d,t=%d,p=%d,s=%d,k=%d", p.Memory, p.Time, p.Threads, p.SaltLen, p.KeyLen)
}

func (a *argon2Hash) fake() verifier {
	salt := make([]byte, a.params.SaltLen)
	key := make([]byte, a.params.KeyLen)
	rand.Read(salt)
	rand.Read(key)
	return &argon2Hash{params: a.params, salt: salt, key: key}
}

// HashArgon2id derives an argon2id (RFC 9106) tag from password with a
// fresh random salt and returns it as a PHC string
// ($argon2id$v=19$m=...,t=...,p=...$salt$key, unpadded standard base64, the
// format of the reference implementation). The zero Argon2Params means
// [DefaultArgon2Params]; otherwise p must pass [Argon2Params.Validate].
func HashArgon2id(password []byte, p Argon2Params) (string, error) {
	if p == (Argon2Params{}) {
		p = DefaultArgon2Params
	}
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	a := &argon2Hash{
		params: p,
		salt:   salt,
		key:    argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen),
	}
	return a.encode(), nil
}
