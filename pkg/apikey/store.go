package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// Credential is one API key as written in kong.yaml or a credentials file.
type Credential struct {
	// ID identifies the credential: it goes to X-Credential-Identifier and the logs, never the key.
	ID string `json:"id" required:"true" match_none:"%c" match_err:"must not contain control characters (it is sent in X-Credential-Identifier)"`
	// Consumer is the Kong consumer (username or id) the key maps to.
	Consumer string `json:"consumer" required:"true"`
	// KeyHash is "sha256:<64 hex>" of the key (`authkit hash key`). High-entropy keys need no slow hash.
	KeyHash string `json:"key_hash" required:"true"`
	// ExpiresAt is an RFC 3339 time after which the key is refused with APIKEY_EXPIRED; empty never expires.
	ExpiresAt string `json:"expires_at" len_min:"0"`
}

type entry struct {
	id       string
	consumer string
	hash     [32]byte
	expires  time.Time // zero: never
}

// Store maps key hashes to credentials: one map lookup whatever the
// number of keys.
type Store struct {
	byHash map[[32]byte]*entry
}

// HashKey is the stored form of a key.
func HashKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// FormatHash renders a hash as key_hash.
func FormatHash(h [32]byte) string { return "sha256:" + hex.EncodeToString(h[:]) }

// hashFormat is what a key_hash must look like.
const hashFormat = `must be "sha256:<64 hex digits>"`

// ParseHash reads a key_hash value.
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	hexpart, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		if s != "" && !strings.Contains(s, ":") {
			return h, fmt.Errorf("%s (a plaintext key is not accepted; hash it with `authkit hash key`)", hashFormat)
		}
		return h, fmt.Errorf("%s, got scheme %q", hashFormat, strings.SplitN(s, ":", 2)[0])
	}
	if len(hexpart) != 64 {
		return h, fmt.Errorf("sha256 hash must have 64 hex digits, got %d", len(hexpart))
	}
	b, err := hex.DecodeString(hexpart)
	if err != nil {
		return h, fmt.Errorf("sha256 hash is not hex: %v", err)
	}
	copy(h[:], b)
	return h, nil
}

// CompileCredentials validates every entry, naming the list and index.
func CompileCredentials(field string, creds []Credential) (*Store, error) {
	s := &Store{byHash: make(map[[32]byte]*entry, len(creds))}
	return s, s.add(field, creds)
}

// Merge returns a store with both static and creds; a duplicate id or key is an error.
func Merge(static *Store, field string, creds []Credential) (*Store, error) {
	s := &Store{byHash: make(map[[32]byte]*entry, len(static.byHash)+len(creds))}
	for k, v := range static.byHash {
		s.byHash[k] = v
	}
	return s, s.add(field, creds)
}

func (s *Store) add(field string, creds []Credential) error {
	ids := make(map[string]bool, len(s.byHash)+len(creds))
	for _, e := range s.byHash {
		ids[e.id] = true
	}
	for i, c := range creds {
		at := fmt.Sprintf("%s[%d]", field, i)
		if c.ID == "" {
			return fmt.Errorf("%s.id: must not be empty", at)
		}
		if gateway.HeaderValue(c.ID) != c.ID {
			// It goes to X-Credential-Identifier, which would be dropped.
			return fmt.Errorf("%s.id: %q has a control character (it is sent in X-Credential-Identifier)", at, c.ID)
		}
		if ids[c.ID] {
			return fmt.Errorf("%s.id: %q is used twice", at, c.ID)
		}
		ids[c.ID] = true
		if c.Consumer == "" {
			return fmt.Errorf("%s.consumer: must name a Kong consumer (username or id)", at)
		}
		h, err := ParseHash(c.KeyHash)
		if err != nil {
			return fmt.Errorf("%s.key_hash: %w", at, err)
		}
		if other, dup := s.byHash[h]; dup {
			return fmt.Errorf("%s.key_hash: the same key as credential %q", at, other.id)
		}
		e := &entry{id: c.ID, consumer: c.Consumer, hash: h}
		if c.ExpiresAt != "" {
			t, err := time.Parse(time.RFC3339, c.ExpiresAt)
			if err != nil {
				return fmt.Errorf("%s.expires_at: not an RFC 3339 time: %v", at, err)
			}
			e.expires = t
		}
		s.byHash[h] = e
	}
	return nil
}

// Len is the number of keys.
func (s *Store) Len() int { return len(s.byHash) }

// lookup finds the credential of key. The map is keyed by the key's
// SHA-256, so the time it takes does not depend on how many keys exist or
// how much of a key matches; the final comparison is constant-time too.
func (s *Store) lookup(key string) *entry { return s.lookupHash(HashKey(key)) }

// lookupHash is lookup for an already computed HashKey.
func (s *Store) lookupHash(h [32]byte) *entry {
	e, ok := s.byHash[h]
	if !ok || !secret.Equal(e.hash[:], h[:]) {
		return nil
	}
	return e
}
