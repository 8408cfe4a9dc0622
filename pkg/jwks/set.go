package jwks

import (
	"context"
	"fmt"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// maxListedKids bounds the known kids a KeyNotFound detail lists.
const maxListedKids = 10

// Set is a parsed JWK Set (RFC 7517 §5): the usable signing keys in
// document order, and why the others were skipped. A Set is immutable after
// Parse and is itself a Source (a static JWKS from the configuration).
type Set struct {
	// Keys are the usable verification keys, in document order.
	Keys []*Key
	// Skipped says, one entry per key, why a key was left out
	// ("keys[2] (kid \"x\"): use \"enc\", not a signature key …").
	Skipped []string
	byID    map[string]*Key
}

// Lookup returns the key with this kid (RFC 7517 §4.5, RFC 7515 §4.1.4).
// With kid "" it returns the only key when the set has exactly one: a
// token without kid against a multi-key set is ambiguous, and trying every
// key would let one token probe them all. When two keys share a kid (RFC
// 7517 §4.5 allows it across key types) the first in document order wins.
func (s *Set) Lookup(_ context.Context, kid string) (*Key, error) {
	if k, ok := s.find(kid); ok {
		return k, nil
	}
	return nil, s.notFound(kid)
}

// KeyIDs returns the kids of the usable keys, in document order ("" for a
// key without kid).
func (s *Set) KeyIDs() []string {
	ids := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		ids[i] = k.ID
	}
	return ids
}

func (s *Set) find(kid string) (*Key, bool) {
	if kid == "" {
		if len(s.Keys) == 1 {
			return s.Keys[0], true
		}
		return nil, false
	}
	if s.byID != nil {
		k, ok := s.byID[kid]
		return k, ok
	}
	for _, k := range s.Keys {
		if k.ID == kid {
			return k, true
		}
	}
	return nil, false
}

func (s *Set) notFound(kid string) *errcode.Error {
	if kid == "" {
		return errcode.New(errcode.KeyNotFound, "token has no kid and the set has %d keys", len(s.Keys)).
			With("known_kids", s.listKids())
	}
	return errcode.New(errcode.KeyNotFound, "kid %s is not in the key set (known kids: %s)", quoteKid(kid), s.listKids()).
		With("kid", boundKid(kid)).With("known_kids", s.listKids())
}

// listKids renders at most maxListedKids kids for the operator log.
func (s *Set) listKids() string {
	ids := s.KeyIDs()
	more := 0
	if len(ids) > maxListedKids {
		more = len(ids) - maxListedKids
		ids = ids[:maxListedKids]
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quoteKid(id)
	}
	out := strings.Join(q, ", ")
	if more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}

var _ Source = (*Set)(nil)
