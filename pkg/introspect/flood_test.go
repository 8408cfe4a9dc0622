package introspect

import (
	"container/list"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// The flood workload: a hot set of legitimate tokens, each used again and
// again, interleaved with a spray of random tokens an attacker sends once
// each (every one answered inactive and cached under the negative TTL).
const (
	floodCap     = 1000 // cache capacity (CacheSize scaled down)
	floodHot     = 500  // legitimate tokens in use: half the capacity
	floodPerTurn = 10   // attacker tokens per legitimate request
)

func floodKey(kind byte, i uint64) [32]byte {
	var k [32]byte
	k[0] = kind
	binary.BigEndian.PutUint64(k[1:], i)
	return k
}

// simTime is the simulated clock: read by otter's maintenance goroutine
// too, hence atomic.
type simTime struct{ ns atomic.Int64 }

func newSimTime() *simTime                             { c := &simTime{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *simTime) Now() time.Time                      { return time.Unix(0, c.ns.Load()) }
func (c *simTime) advance(d time.Duration)             { c.ns.Add(int64(d)) }
func (c *simTime) NowNano() int64                      { return c.ns.Load() }
func (c *simTime) Tick(time.Duration) <-chan time.Time { return nil }

// answerStore is what the flood measures: a bounded cache of answers.
type answerStore interface {
	get(k [32]byte) bool
	set(k [32]byte, life time.Duration, active bool)
}

// answerStore is the answer cache itself (two pools, W-TinyLFU).
type answerCacheStore struct {
	c   *answerCache
	now *simTime
}

func newAnswerStore(now *simTime) answerStore {
	return &answerCacheStore{c: newAnswerCache(floodCap, now), now: now}
}

func (s *answerCacheStore) get(k [32]byte) bool { _, ok := s.c.get(k); return ok }
func (s *answerCacheStore) set(k [32]byte, life time.Duration, active bool) {
	e := &entry{answer: &Answer{Active: active}, fetched: s.now.Now(), life: life}
	if active {
		s.c.put(k, e)
		return
	}
	s.c.revoke(k, e)
}

// otterStore is one W-TinyLFU pool for both kinds of answers.
type otterStore struct {
	c   *otter.Cache[[32]byte, *entry]
	now *simTime
}

func newOtterStore(now *simTime) answerStore {
	return &otterStore{c: newAnswerCache(floodCap, now).active, now: now}
}

func (s *otterStore) get(k [32]byte) bool { _, ok := s.c.GetIfPresent(k); return ok }
func (s *otterStore) set(k [32]byte, life time.Duration, active bool) {
	s.c.Set(k, &entry{answer: &Answer{Active: active}, fetched: s.now.Now(), life: life})
}

// ttlStore is pkg/ttlcache, the suite's other bounded cache (expired
// entries first, else the closest to expiry among a random sample).
type ttlStore struct {
	c *ttlcache.Cache[[32]byte, struct{}]
}

func (s *ttlStore) get(k [32]byte) bool { _, ok := s.c.Get(k); return ok }
func (s *ttlStore) set(k [32]byte, life time.Duration, _ bool) {
	s.c.Set(k, struct{}{}, life)
}

// lruStore is a plain LRU.
type lruStore struct {
	l *list.List
	m map[[32]byte]*list.Element
}

func (s *lruStore) get(k [32]byte) bool {
	e, ok := s.m[k]
	if ok {
		s.l.MoveToFront(e)
	}
	return ok
}
func (s *lruStore) set(k [32]byte, _ time.Duration, _ bool) {
	if e, ok := s.m[k]; ok {
		s.l.MoveToFront(e)
		return
	}
	if s.l.Len() >= floodCap {
		last := s.l.Back()
		delete(s.m, last.Value.([32]byte))
		s.l.Remove(last)
	}
	s.m[k] = s.l.PushFront(k)
}

// capStore is what main had: go-cache with a count cap checked before each
// store (expired entries count until the janitor runs, once a minute), and
// no eviction: once full, new answers are simply not cached.
type capStore struct {
	m       map[[32]byte]time.Time
	now     *simTime
	cleaned time.Time
}

func (s *capStore) get(k [32]byte) bool {
	exp, ok := s.m[k]
	return ok && s.now.Now().Before(exp)
}
func (s *capStore) set(k [32]byte, life time.Duration, _ bool) {
	now := s.now.Now()
	if now.Sub(s.cleaned) >= time.Minute {
		for k, exp := range s.m {
			if !now.Before(exp) {
				delete(s.m, k)
			}
		}
		s.cleaned = now
	}
	if len(s.m) >= floodCap {
		return
	}
	s.m[k] = now.Add(life)
}

// runFlood serves turns legitimate requests with floodPerTurn attacker
// tokens before each. The hot set is floodHot tokens in use at any time,
// round robin; each is used floodUses times and then replaced by a new one
// (a client refreshing its token), so new legitimate answers keep needing
// a slot. A miss stores the answer for 5 min. The attacker's tokens are each
// sent once: random strings (answered inactive, stored for the 10 s
// negative TTL) or, with valid, tokens the attacker minted with a client of
// its own (answered active, stored for 5 min like the legitimate ones). The
// simulated clock advances 1 ms per request. It returns the hot set's hit
// ratio.
func runFlood(s answerStore, now *simTime, turns int, valid bool) float64 {
	const floodUses = 40
	var attacker uint64
	life := 10 * time.Second
	if valid {
		life = 5 * time.Minute
	}
	hits, lookups := 0, 0
	for turn := 0; turn < turns; turn++ {
		for j := 0; j < floodPerTurn; j++ {
			attacker++
			k := floodKey('a', attacker)
			if !s.get(k) {
				s.set(k, life, valid)
			}
			now.advance(time.Millisecond)
		}
		slot := turn % floodHot
		generation := turn / (floodHot * floodUses)
		k := floodKey('h', uint64(generation*floodHot+slot))
		lookups++
		if s.get(k) {
			hits++
		} else {
			s.set(k, 5*time.Minute, true)
		}
		now.advance(time.Millisecond)
	}
	return float64(hits) / float64(lookups)
}

func floodStores() map[string]func(now *simTime) answerStore {
	return map[string]func(now *simTime) answerStore{
		"answer-cache(2-pools,W-TinyLFU)": newAnswerStore,
		"otter-1-pool(W-TinyLFU)":         newOtterStore,
		"ttlcache": func(now *simTime) answerStore {
			c := ttlcache.New[[32]byte, struct{}](floodCap)
			c.SetClock(now.Now)
			return &ttlStore{c: c}
		},
		"LRU": func(*simTime) answerStore { return &lruStore{l: list.New(), m: map[[32]byte]*list.Element{}} },
		"go-cache+cap(main)": func(now *simTime) answerStore {
			return &capStore{m: map[[32]byte]time.Time{}, now: now, cleaned: now.Now()}
		},
	}
}

// BenchmarkHotSetUnderFlood reports the hit ratio of the legitimate hot set
// (half the capacity) while an attacker sprays ten one-time tokens per
// legitimate request, for the answer cache and the alternatives.
func BenchmarkHotSetUnderFlood(b *testing.B) {
	for name, mk := range floodStores() {
		b.Run(name, func(b *testing.B) {
			var random, valid float64
			for i := 0; i < b.N; i++ {
				now := newSimTime()
				random = runFlood(mk(now), now, 60000, false)
				now = newSimTime()
				valid = runFlood(mk(now), now, 60000, true)
			}
			b.ReportMetric(100*random, "hot-hit-%-random-flood")
			b.ReportMetric(100*valid, "hot-hit-%-valid-flood")
		})
	}
}

// TestHotSetSurvivesFlood pins the property the two pools guarantee: a
// flood of random tokens neither evicts the legitimate hot set nor keeps
// new legitimate answers out (97.5 % is the most a token used 40 times can
// hit). The flood of valid one-time tokens, where W-TinyLFU's admission is
// what protects the hot set, is measured by BenchmarkHotSetUnderFlood.
func TestHotSetSurvivesFlood(t *testing.T) {
	now := newSimTime()
	if r := runFlood(newAnswerStore(now), now, 30000, false); r < 0.95 {
		t.Fatalf("hot-set hit ratio under a flood of random tokens: %.1f%%, want ≥ 95%%", 100*r)
	}
}
