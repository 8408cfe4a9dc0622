package introspect

import (
	"testing"
	"time"
)

// TestRevocationOutlivesTheInactiveEntry: an inactive answer (a
// revocation) hides the older active answer for the same question for
// good, not only while the inactive entry is kept. Before, the active
// entry came back once the inactive one expired (after the largest
// negative TTL), and a route caching for longer accepted the revoked
// token again until its own TTL ran out. Also when no reader keeps
// inactive answers at all (every negative TTL 0).
func TestRevocationOutlivesTheInactiveEntry(t *testing.T) {
	for _, tc := range []struct {
		name         string
		inactiveLife time.Duration
	}{
		{"inactive kept 10 s", 10 * time.Second},
		{"inactive not kept", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newSimTime()
			c := newAnswerCache(100, clock)
			var k [32]byte
			k[0] = 7
			t0 := clock.Now()
			c.put(k, &entry{answer: &Answer{Active: true}, fetched: t0, life: time.Hour})
			clock.advance(time.Second)
			c.revoke(k, &entry{answer: &Answer{}, fetched: clock.Now(), life: tc.inactiveLife})
			clock.advance(time.Minute)
			if e, ok := c.get(k); ok && e.answer.Active {
				t.Fatalf("the active answer fetched before the revocation is served again (fetched %v)", e.fetched)
			}
		})
	}
}

// TestOlderActiveAnswerNeverReplacesARevocation: an active answer fetched
// before a revocation but stored after it (a slow request) is not kept.
func TestOlderActiveAnswerNeverReplacesARevocation(t *testing.T) {
	clock := newSimTime()
	c := newAnswerCache(100, clock)
	var k [32]byte
	t0 := clock.Now()
	clock.advance(time.Second)
	c.revoke(k, &entry{answer: &Answer{}, fetched: clock.Now(), life: 10 * time.Second})
	c.put(k, &entry{answer: &Answer{Active: true}, fetched: t0, life: time.Hour})
	clock.advance(time.Minute)
	if e, ok := c.get(k); ok && e.answer.Active {
		t.Fatal("an active answer older than the revocation was stored")
	}
	// A newer active answer (the token is active again, e.g. a provider
	// that answered inactive by mistake) is stored as usual.
	c.put(k, &entry{answer: &Answer{Active: true}, fetched: clock.Now(), life: time.Hour})
	if e, ok := c.get(k); !ok || !e.answer.Active {
		t.Fatal("a newer active answer was not stored")
	}
}

// TestStorageLifetimeFollowsLiveClients: the storage lifetime is the
// longest TTL of the Clients in use; a closed Client's TTLs no longer
// count, and a Client that never introspected never counted.
func TestStorageLifetimeFollowsLiveClients(t *testing.T) {
	_, srv := newProvider(t, jsonAnswer(200, `{"active":false}`))
	basePos, baseNeg := live.maxTTL(), live.maxNegTTL()
	long := client(t, srv.URL, func(o *Options) { o.CacheTTL = 240 * time.Hour; o.NegativeTTL = 120 * time.Hour })
	idle := client(t, srv.URL, func(o *Options) { o.CacheTTL = 480 * time.Hour })
	if live.maxTTL() != basePos {
		t.Fatal("a Client that never introspected counts in the storage lifetime")
	}
	if _, _, err := long.Introspect(t.Context(), freshToken()); err != nil {
		t.Fatal(err)
	}
	if live.maxTTL() != 240*time.Hour || live.maxNegTTL() != 120*time.Hour {
		t.Fatalf("storage lifetime %v/%v, want the live client's 240h/120h", live.maxTTL(), live.maxNegTTL())
	}
	long.Close()
	long.Close()
	idle.Close()
	if live.maxTTL() != basePos || live.maxNegTTL() != baseNeg {
		t.Fatalf("after Close the storage lifetime is %v/%v, want %v/%v", live.maxTTL(), live.maxNegTTL(), basePos, baseNeg)
	}
	// A closed client still answers, without counting again.
	if _, _, err := long.Introspect(t.Context(), freshToken()); err != nil || live.maxTTL() != basePos {
		t.Fatalf("closed client: %v, lifetime %v", err, live.maxTTL())
	}
}
