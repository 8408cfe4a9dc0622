package introspect

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/secret"
	"github.com/maypok86/otter/v2"
)

// CacheSize bounds the process-wide answer cache (entries, of every Client).
const CacheSize = 100_000

// entry is one provider answer as it was fetched. It holds no policy: each
// reader decides from fetched (and the token's exp) whether the answer is
// still usable under its own cache settings, so a route that caches for 5
// minutes never lends its answers to a route that caches for 0 seconds.
// Entries are shared between goroutines and never written after storing.
type entry struct {
	answer  *Answer
	fetched time.Time // when the request was sent (conservative)
	exp     time.Time // the token's exp; zero if the answer has none
	life    time.Duration
	// checked is when the answer was last read from or written to Redis
	// (policy redis; zero otherwise): the shared tier's clients reuse it
	// locally for LocalTier after that.
	checked time.Time
}

// usable is the reader's policy (RFC 7662 §4): an active answer while both
// fetched+ttl and the token's exp lie ahead (an answer without exp is never
// reused: the token's lifetime is unknown), an inactive one while
// fetched+negTTL does. A TTL of 0 never reads.
func (e *entry) usable(now time.Time, ttl, negTTL time.Duration) bool {
	if e.answer.Active {
		return ttl > 0 && !e.exp.IsZero() && now.Before(e.fetched.Add(ttl)) && now.Before(e.exp)
	}
	return negTTL > 0 && now.Before(e.fetched.Add(negTTL))
}

// answers is the process-wide cache. Kong restarts plugin instances on every
// config change, so answers outlive any one config; they are keyed by
// everything the verdict depends on (see Client.key), never by the token or
// the secret themselves. Built on first use: processes that never
// introspect (the CLI, the other plugins) get no cache and no clean-up
// goroutine.
var answers = sync.OnceValue(func() *answerCache { return newAnswerCache(CacheSize, nil) })

// answerCache keeps active and inactive answers in two bounded pools, so
// that a spray of random tokens — free to make, each answered inactive —
// only ever competes with other inactive answers and can neither evict nor
// starve the active answers of legitimate clients. Each pool is a W-TinyLFU
// cache (otter): a new key is admitted only if it is used more often than
// the entry it would evict, so one-time tokens (even valid ones an attacker
// mints with a client of its own) pass through a small admission window
// without flushing the hot set; expired entries are dropped by the cache's
// timer wheel and do not hold slots. BenchmarkHotSetUnderFlood measures it
// against the alternatives.
type answerCache struct {
	active, inactive *otter.Cache[[32]byte, *entry]
}

// newAnswerCache returns pools of size entries each; clock is nil but in
// the flood measurements, which simulate time.
func newAnswerCache(size int, clock otter.Clock) *answerCache {
	pool := func() *otter.Cache[[32]byte, *entry] {
		return otter.Must(&otter.Options[[32]byte, *entry]{
			MaximumSize: size,
			Clock:       clock,
			ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[[32]byte, *entry]) time.Duration {
				return e.Value.life
			}),
		})
	}
	return &answerCache{active: pool(), inactive: pool()}
}

// get returns the most recently fetched answer for k, from either pool: a
// newer inactive answer (a revocation) hides an older active one.
func (c *answerCache) get(k [32]byte) (*entry, bool) {
	a, okA := c.active.GetIfPresent(k)
	i, okI := c.inactive.GetIfPresent(k)
	switch {
	case okA && okI:
		if !i.fetched.Before(a.fetched) { // a tie goes to the refusal
			return i, true
		}
		return a, true
	case okA:
		return a, true
	case okI:
		return i, true
	}
	return nil, false
}

// put stores an active answer e unless a newer answer for k is held: a
// newer active one, or a newer inactive one (a revocation). The check runs
// inside the active pool's per-key compute, which revoke also goes
// through, so a slow active answer cannot slip in behind a revocation.
func (c *answerCache) put(k [32]byte, e *entry) {
	c.active.Compute(k, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		if i, ok := c.inactive.GetIfPresent(k); ok && !i.fetched.Before(e.fetched) {
			return old, otter.CancelOp
		}
		if found && old.fetched.After(e.fetched) {
			return old, otter.CancelOp
		}
		return e, otter.WriteOp
	})
}

// revoke stores an inactive answer e (when it is worth keeping: life > 0)
// and drops every active answer for k fetched no later than e. Without the
// drop, the older active answer would come back once the inactive entry
// expired (after the largest negative TTL), and a route caching for longer
// would accept a revoked token again until its own TTL ran out (RFC 7662
// §4: a cached answer must not outlive what the provider said since).
func (c *answerCache) revoke(k [32]byte, e *entry) {
	if e.life > 0 {
		c.inactive.Compute(k, func(old *entry, found bool) (*entry, otter.ComputeOp) {
			if found && old.fetched.After(e.fetched) {
				return old, otter.CancelOp
			}
			return e, otter.WriteOp
		})
	}
	c.active.Compute(k, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		if found && !old.fetched.After(e.fetched) {
			return nil, otter.InvalidateOp
		}
		return old, otter.CancelOp
	})
}

// store keeps a fresh answer for every reader of key k. A newer answer
// replaces an older one whatever the writer's own TTLs (even a route that
// caches nothing refreshes what the others read: a revocation it sees
// reaches them too, and ends every older active answer for good); an older
// answer never replaces a newer one.
func store(cache *answerCache, k [32]byte, a *Answer, fetched, now, checked time.Time) {
	e := &entry{answer: a, fetched: fetched, checked: checked, life: entryLife(a, fetched, now)}
	if a.Active {
		exp, _ := a.Claims["exp"].(float64)
		e.exp = time.Unix(int64(exp), 0)
	}
	if !a.Active {
		cache.revoke(k, e)
		return
	}
	if e.life > 0 {
		cache.put(k, e)
	}
}

// entryLife is how long an answer fetched at fetched is worth keeping at
// now: as long as the longest TTL of any Client in the process would use
// it, and never an active one past its exp (an active answer without exp
// is never reusable: ≤ 0).
func entryLife(a *Answer, fetched, now time.Time) time.Duration {
	if a.Active {
		exp, ok := a.Claims["exp"].(float64)
		if !ok {
			return 0
		}
		return min(time.Unix(int64(exp), 0).Sub(now), live.maxTTL()-now.Sub(fetched))
	}
	return live.maxNegTTL() - now.Sub(fetched)
}

// secretKey keys the fingerprint of each client secret that goes into
// cache keys: a plain hash of a low-entropy secret could be guessed from a
// memory dump, a MAC under a per-process random key cannot.
var secretKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}()

// clientKey binds every input of the verdict other than the token: the
// endpoint, the client id, the secret (a keyed fingerprint), the auth
// method and the token_type_hint. A route with a wrong secret must not be
// served the answers another route's right secret obtained, and a hint
// changes what the provider looks the token up as. Fields are
// length-prefixed, so no two inputs collide by concatenation.
func clientKey(o Options) [32]byte {
	mac := hmac.New(sha256.New, secretKey)
	mac.Write([]byte(o.ClientSecret))
	return secret.Key(o.Endpoint, o.ClientID, string(mac.Sum(nil)), o.AuthMethod, o.TokenTypeHint)
}
