package accesstoken

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"time"
	"unsafe"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
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
	m     *ttlcache.Cache[[32]byte, *verified] // nil when caching is off
	group singleflight.Group
}

// verified is a cache entry: the claims and the key that verified them.
// The verdict depends on that key too: a hit is served only while the key
// set still maps the token's kid to the same key material, so a key the
// provider withdrew (compromised, rotated out) stops its tokens at the
// next key set refresh instead of at their exp.
type verified struct {
	claims *Claims
	kid    string
	key    *jwks.Key
}

func newTokenCache(size int, now func() time.Time) *tokenCache {
	tc := &tokenCache{}
	if size >= 0 {
		if size == 0 {
			size = DefaultCacheSize
		}
		tc.m = ttlcache.New[[32]byte, *verified](size)
		tc.m.SetClock(now)
	}
	return tc
}

// cacheKey hashes the token without copying it: sha256 only reads its
// input, and the copy would be the warm path's one allocation.
func cacheKey(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

func (tc *tokenCache) get(k [32]byte) (*verified, bool) {
	if tc.m == nil {
		return nil, false
	}
	return tc.m.Get(k)
}

// count records a lookup of the verified-token cache (when it is on).
func (tc *tokenCache) count(hit bool) {
	if tc.m != nil {
		metrics.CacheLookup(metrics.CacheVerifiedTokens, hit)
	}
}

// put stores e until its claims' exp.
func (tc *tokenCache) put(k [32]byte, e *verified, now time.Time) {
	if tc.m == nil || e.claims.Expiry == nil {
		return
	}
	if ttl := e.claims.Expiry.Sub(now); ttl > 0 {
		tc.m.Set(k, e, ttl)
	}
}

// do runs fn once for all concurrent callers with the same key. Callers
// that shared the result get their own copy of an error, so that one
// request adding log fields cannot race with another.
func (tc *tokenCache) do(k [32]byte, fn func() (*verified, error)) (*verified, error) {
	v, err, _ := tc.group.Do(string(k[:]), func() (any, error) { return fn() })
	e, _ := v.(*verified)
	return e, err
}

// sameKey reports whether the key set still holds the key material that
// verified an entry (a refresh re-parses the set: new pointers, same keys).
func sameKey(now, then *jwks.Key) bool {
	if now == then {
		return true
	}
	if now == nil || then == nil || now.Alg != then.Alg || now.Use != then.Use {
		return false
	}
	switch p := now.Public.(type) {
	case interface{ Equal(crypto.PublicKey) bool }:
		return p.Equal(then.Public)
	case []byte:
		q, ok := then.Public.([]byte)
		return ok && hmac.Equal(p, q)
	}
	return false
}
