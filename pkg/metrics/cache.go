package metrics

import "github.com/prometheus/client_golang/prometheus"

// Cache names one of the process-wide caches.
type Cache int

const (
	// CacheVerifiedTokens: JWTs whose signature and claims verified
	// (pkg/accesstoken).
	CacheVerifiedTokens Cache = iota
	// CacheIntrospection: RFC 7662 answers (pkg/introspect).
	CacheIntrospection
	// CachePasswords: verified Basic passwords (pkg/basicauth).
	CachePasswords
	// CacheConsumers: Kong consumers (pkg/gateway).
	CacheConsumers
	// CacheJWKS: remote key sets; a hit is a key served from the fetched
	// set, a miss a lookup that needed a fetch or found no key (pkg/jwks).
	CacheJWKS
	numCaches
)

var cacheNames = [numCaches]string{"verified_tokens", "introspection", "passwords", "consumers", "jwks"}

// String is the cache label value.
func (c Cache) String() string { return cacheNames[c] }

// Caches lists every cache.
func Caches() []Cache {
	return []Cache{CacheVerifiedTokens, CacheIntrospection, CachePasswords, CacheConsumers, CacheJWKS}
}

var (
	cacheHits   = counterVec("cache_hits_total", "Lookups a process-wide cache answered, by cache.", []string{"cache"}, true)
	cacheMisses = counterVec("cache_misses_total",
		"Lookups a process-wide cache could not answer (the work was done: a signature check, a slow hash, a provider or Kong call), by cache.",
		[]string{"cache"}, true)
	hitCounters, missCounters [numCaches]prometheus.Counter
)

// resolveCaches creates every cache's series at 0, so a hit ratio has data
// from the first scrape.
func resolveCaches() {
	for c := range numCaches {
		hitCounters[c] = cacheHits.WithLabelValues(cacheNames[c])
		missCounters[c] = cacheMisses.WithLabelValues(cacheNames[c])
	}
}

// CacheLookup counts one lookup in c.
func CacheLookup(c Cache, hit bool) {
	if !on.Load() {
		return
	}
	if hit {
		hitCounters[c].Inc()
	} else {
		missCounters[c].Inc()
	}
}
