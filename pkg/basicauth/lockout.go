package basicauth

import (
	"container/heap"
	"sync"
	"time"
)

// Lockout counts wrong passwords per pair, a (username, client IP) in a
// credential store's scope (pairKey, lockscope.go), in a fixed window. It is also what caps the slow hashing an attacker can cause for
// one account from one address, so the count is reserved before the hash,
// not recorded after it: an attempt takes a slot while it is verified
// (in-flight attempts count against Max), and a pair whose failures plus
// attempts in flight reach Max is refused without hashing. max_failures: N
// therefore means at most N wrong passwords are ever verified per pair and
// window, however many requests arrive at once. Concurrent attempts with
// the same password share one slot and one verification, so a client
// sending a burst of correct requests on a cold cache is not locked out by
// its own burst. A success clears the pair.
//
// The table is bounded (LockoutCapacity pairs), and what it drops when full
// is chosen so that a flood cannot buy an attacker more guesses: the pair
// with the fewest failures goes first (on a tie the one whose window ends
// first), and a pair with an attempt in flight never goes. Evicting a
// locked pair (Max failures) therefore requires every other pair in the
// table to hold Max failures as well: LockoutCapacity × Max wrong
// passwords verified inside one window, each a full slow hash, for Max more
// guesses at one account from one address, which a fresh client IP gives
// for nothing. A flood of one-off user names (1 failure each) only ever
// evicts its own kind.
type Lockout struct {
	Max    int
	Window time.Duration
	now    func() time.Time
	cap    int
	// settings are Max and Window as a field of the pair keys
	// (lockscope.go): routes with other settings count apart.
	settings string

	mu    sync.Mutex
	pairs map[[32]byte]*pair
	order pairHeap // every pair, the first to drop on top
}

// LockoutCapacity bounds the lockout table of one config.
const LockoutCapacity = 100_000

// inFlightRetry is the Retry-After of an attempt refused because the
// pair's remaining slots are all taken by attempts still being verified.
const inFlightRetry = time.Second

type pair struct {
	key      [32]byte
	failures int
	until    time.Time // the window's end; the lock's end once locked
	inflight map[[32]byte]*flight
	index    int // in Lockout.order
}

// flight is one verification in progress; requests with the same
// password from the same pair wait for its verdict.
type flight struct {
	done chan struct{}
	ok   bool
}

// NewLockout returns nil (no lockout) when max or window is zero.
func NewLockout(max int, span time.Duration) *Lockout {
	return newLockout(max, span, LockoutCapacity)
}

func newLockout(max int, span time.Duration, capacity int) *Lockout {
	if max <= 0 || span <= 0 {
		return nil
	}
	return &Lockout{Max: max, Window: span, now: time.Now, cap: capacity, settings: settingsOf(max, span), pairs: map[[32]byte]*pair{}}
}

// current returns the pair's live state, dropping one whose window is over.
func (l *Lockout) current(k [32]byte, now time.Time) *pair {
	p := l.pairs[k]
	if p != nil && len(p.inflight) == 0 && !now.Before(p.until) {
		l.remove(p)
		return nil
	}
	return p
}

// Locked reports whether the pair has used up its failures, and for how
// long it stays locked.
func (l *Lockout) Locked(pair [32]byte) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if p := l.current(pair, now); p != nil && p.failures >= l.Max {
		return p.until.Sub(now), true
	}
	return 0, false
}

// Attempt verifies one password for the pair under the lockout: it
// reserves a slot (or joins the verification in flight of the same
// attempt, identified by attempt), runs verify, and records the verdict.
// It reports locked, with a Retry-After, when no slot is left; verify is
// then not run.
func (l *Lockout) Attempt(k, attempt [32]byte, verify func() bool) (ok bool, retryAfter time.Duration, locked bool) {
	l.mu.Lock()
	now := l.now()
	p := l.current(k, now)
	if p != nil {
		if p.failures >= l.Max {
			l.mu.Unlock()
			return false, p.until.Sub(now), true
		}
		if f := p.inflight[attempt]; f != nil {
			l.mu.Unlock()
			<-f.done
			return f.ok, 0, false
		}
		if p.failures+len(p.inflight) >= l.Max {
			l.mu.Unlock()
			return false, inFlightRetry, true
		}
	} else {
		p = l.add(k, now)
	}
	f := &flight{done: make(chan struct{})}
	p.inflight[attempt] = f
	heap.Fix(&l.order, p.index)
	l.mu.Unlock()

	defer func() {
		// Deferred, so that a panic in verify still releases the slot
		// (and counts as a failure: fail closed).
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(p.inflight, attempt)
		f.ok = ok
		close(f.done)
		if ok {
			p.failures = 0
		} else if p.failures++; p.failures >= l.Max {
			p.until = l.now().Add(l.Window) // locked for a whole window
		}
		if p.failures == 0 && len(p.inflight) == 0 {
			l.remove(p)
			return
		}
		heap.Fix(&l.order, p.index)
	}()
	ok = verify()
	return ok, 0, false
}

// Succeed clears the pair (a password proven right without hashing, from
// the verified-password cache).
func (l *Lockout) Succeed(pair [32]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.pairs[pair]; p != nil {
		p.failures = 0
		if len(p.inflight) == 0 {
			l.remove(p)
		} else {
			heap.Fix(&l.order, p.index)
		}
	}
}

// Len is the number of pairs in the table.
func (l *Lockout) Len() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.pairs) }

// add creates the pair, making room first when the table is full. Only
// when every pair has an attempt in flight (as many pairs as concurrent
// requests) does the table grow past its capacity.
func (l *Lockout) add(k [32]byte, now time.Time) *pair {
	if len(l.pairs) >= l.cap && len(l.order) > 0 {
		if victim := l.order[0]; len(victim.inflight) == 0 {
			l.remove(victim)
		}
	}
	p := &pair{key: k, until: now.Add(l.Window), inflight: map[[32]byte]*flight{}}
	l.pairs[k] = p
	heap.Push(&l.order, p)
	return p
}

func (l *Lockout) remove(p *pair) {
	delete(l.pairs, p.key)
	heap.Remove(&l.order, p.index)
}

// pairHeap orders pairs by how little dropping them would give away: no
// attempt in flight before some, then fewer failures, then the earlier end
// of window.
type pairHeap []*pair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if fa, fb := len(a.inflight) > 0, len(b.inflight) > 0; fa != fb {
		return fb
	}
	if a.failures != b.failures {
		return a.failures < b.failures
	}
	return a.until.Before(b.until)
}
func (h pairHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *pairHeap) Push(x any) {
	p := x.(*pair)
	p.index = len(*h)
	*h = append(*h, p)
}
func (h *pairHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.index = -1
	return p
}
