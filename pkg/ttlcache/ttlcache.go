// Package ttlcache is a small, bounded, goroutine-safe cache with a
// per-entry expiry. Every cache in the suite that can grow with client input
// (consumers, verified passwords, verified tokens) must be bounded: an
// unbounded cache is a memory-exhaustion vector.
package ttlcache

import (
	"sync"
	"time"
)

type entry[V any] struct {
	v   V
	exp time.Time
}

// Cache maps K to V until each entry's expiry, holding at most Max entries.
type Cache[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]entry[V]
	max int
	now func() time.Time
}

// New returns a cache holding at most max entries (max ≥ 1).
func New[K comparable, V any](max int) *Cache[K, V] {
	if max < 1 {
		max = 1
	}
	return &Cache[K, V]{m: make(map[K]entry[V]), max: max, now: time.Now}
}

// SetClock replaces the clock (tests).
func (c *Cache[K, V]) SetClock(now func() time.Time) { c.mu.Lock(); c.now = now; c.mu.Unlock() }

// Get returns the value for k if present and not expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	now := c.now()
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Set stores v for ttl. A non-positive ttl removes k.
func (c *Cache[K, V]) Set(k K, v V, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ttl <= 0 {
		delete(c.m, k)
		return
	}
	now := c.now()
	if _, exists := c.m[k]; !exists && len(c.m) >= c.max {
		c.evictLocked(now)
	}
	c.m[k] = entry[V]{v: v, exp: now.Add(ttl)}
}

// Delete removes k.
func (c *Cache[K, V]) Delete(k K) { c.mu.Lock(); delete(c.m, k); c.mu.Unlock() }

// Len returns the number of entries, expired ones included.
func (c *Cache[K, V]) Len() int { c.mu.RLock(); defer c.mu.RUnlock(); return len(c.m) }

// evictLocked drops expired entries; if none expired, it drops the entry
// closest to expiry among a bounded sample (map iteration order is random),
// which keeps Set O(1) amortised under a flood of new keys.
func (c *Cache[K, V]) evictLocked(now time.Time) {
	const sample = 32
	var victim K
	var victimExp time.Time
	n := 0
	for k, e := range c.m {
		if !now.Before(e.exp) {
			delete(c.m, k)
			if len(c.m) < c.max {
				return
			}
			continue
		}
		if n == 0 || e.exp.Before(victimExp) {
			victim, victimExp = k, e.exp
		}
		n++
		if n >= sample {
			break
		}
	}
	if len(c.m) >= c.max {
		delete(c.m, victim)
	}
}

// Purge removes every entry.
func (c *Cache[K, V]) Purge() { c.mu.Lock(); c.m = make(map[K]entry[V]); c.mu.Unlock() }
