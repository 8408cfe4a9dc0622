package basicauth

import (
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
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
func cacheKey(user, pass, stored string) [32]byte { return secret.Key(user, pass, stored) }

// attempt is one password to check: the user (nil if unknown), the hash
// to verify (the user's, or the store's fake), and its cache key.
type attempt struct {
	name string
	u    *user
	h    *passwd.Hash
	key  [32]byte
	pass string
}

func newAttempt(s *Store, name, pass string) attempt {
	u, h := s.lookup(name)
	return attempt{name: name, u: u, h: h, key: cacheKey(name, pass, h.String()), pass: pass}
}

// cached reports whether the password was verified before (no hashing).
// With the cache on, every check counts as a hit or a miss; an unknown
// user is a miss (it costs the fake hash), so a credential-stuffing run
// shows up as misses.
func (c *verifiedCache) cached(a attempt) bool {
	if c.ttl <= 0 {
		return false
	}
	ok := false
	if a.u != nil {
		_, ok = c.m.Get(a.key)
	}
	metrics.CacheLookup(metrics.CachePasswords, ok)
	return ok
}

// onSlowHash, when set (test seam builds only), is called before each
// slow hash verification, so tests can count them through the binary.
var onSlowHash func(a attempt)

// SlowHashMarker starts each line that a test seam build writes to stderr
// for a slow hash verification, followed by the user name's fingerprint.
const SlowHashMarker = "authkit-testseam: slow hash"

// verify runs the slow hash; unknown users verify the fake hash: the same
// work and the same false. Concurrent identical checks share one hash.
func (c *verifiedCache) verify(a attempt) bool {
	v, _, _ := c.group.Do(string(a.key[:]), func() (any, error) {
		if onSlowHash != nil {
			onSlowHash(a)
		}
		return a.h.Verify([]byte(a.pass)), nil
	})
	ok := v.(bool) && a.u != nil && !a.h.IsFake()
	if ok && c.ttl > 0 {
		c.m.Set(a.key, struct{}{}, c.ttl)
	}
	return ok
}

// check verifies pass for name against the store, from the cache when it
// can (no lockout: the benchmarks' path).
func (c *verifiedCache) check(s *Store, name, pass string) (*user, bool) {
	a := newAttempt(s, name, pass)
	if c.cached(a) || c.verify(a) {
		return a.u, true
	}
	return nil, false
}
