package accesstoken

import (
	"crypto/sha256"
	"time"
	"unsafe"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// DefaultCacheSize bounds the verified-token cache of a Verifier.
const DefaultCacheSize = 10000

// tokenCache remembers tokens whose signature verified and whose claims
// passed the policy, keyed by the SHA-256 of the whole token (a fixed-size
// digest of exactly what the client sent, never the token itself). An entry
// lives until the token's exp and never beyond (RFC 7662 §4 states the same
// rule for introspection answers); a token without exp is not cached. The
// cache is bounded, so a flood of distinct valid tokens costs evictions, not
// memory.
//
// Concurrent verifications of one uncached token go through singleflight:
// N identical cold requests cost one key lookup and one signature check.
type tokenCache struct {
	m     *ttlcache.Cache[[32]byte, *Claims] // nil when caching is off
	group singleflight.Group
}

func newTokenCache(size int, now func() time.Time) *tokenCache {
	tc := &tokenCache{}
	if size >= 0 {
		if size == 0 {
			size = DefaultCacheSize
		}
		tc.m = ttlcache.New[[32]byte, *Claims](size)
		tc.m.SetClock(now)
	}
	return tc
}

// cacheKey hashes the token without copying it: sha256 only reads its
// input, and the copy would be the warm path's one allocation.
func cacheKey(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

func (tc *tokenCache) get(k [32]byte) (*Claims, bool) {
	if tc.m == nil {
		return nil, false
	}
	return tc.m.Get(k)
}

// put stores c until its exp.
func (tc *tokenCache) put(k [32]byte, c *Claims, now time.Time) {
	if tc.m == nil || c.Expiry == nil {
		return
	}
	if ttl := c.Expiry.Sub(now); ttl > 0 {
		tc.m.Set(k, c, ttl)
	}
}

// do runs fn once for all concurrent callers with the same key. Callers
// that shared the result get their own copy of an error, so that one
// request adding log fields cannot race with another.
func (tc *tokenCache) do(k [32]byte, fn func() (*Claims, error)) (*Claims, error) {
	v, err, _ := tc.group.Do(string(k[:]), func() (any, error) { return fn() })
	c, _ := v.(*Claims)
	return c, err
}
