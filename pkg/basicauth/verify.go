package basicauth

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// verifiedCache remembers successful verifications so a warm request costs
// a SHA-256 instead of a slow hash. Process-wide: Kong restarts plugin
// instances often, the cache should survive that.
type verifiedCache struct {
	ttl   time.Duration
	m     *ttlcache.Cache[[32]byte, struct{}]
	group singleflight.Group
}

func newVerifiedCache(ttl time.Duration) *verifiedCache {
	return &verifiedCache{ttl: ttl, m: ttlcache.New[[32]byte, struct{}](100000)}
}

// cacheKey hashes the length-prefixed username, password and stored hash:
// no plaintext is kept, two different inputs cannot collide by
// concatenation (the Traefik advisory pattern), and changing a user's hash
// invalidates the entry.
func cacheKey(user, pass, stored string) [32]byte {
	h := sha256.New()
	writeLP(h, user)
	writeLP(h, pass)
	writeLP(h, stored)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func writeLP(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// check verifies pass for name against the store. Unknown users verify the
// fake hash: the same work and the same false.
func (c *verifiedCache) check(s *Store, name, pass string) (*user, bool) {
	u, h := s.lookup(name)
	key := cacheKey(name, pass, h.String())
	if u != nil && c.ttl > 0 {
		if _, ok := c.m.Get(key); ok {
			return u, true
		}
	}
	// Concurrent identical checks share one slow hash.
	v, _, _ := c.group.Do(string(key[:]), func() (any, error) {
		return h.Verify([]byte(pass)), nil
	})
	ok := v.(bool) && u != nil && !h.IsFake()
	if ok && c.ttl > 0 {
		c.m.Set(key, struct{}{}, c.ttl)
	}
	if !ok {
		return nil, false
	}
	return u, true
}
