package basicauth

import (
	"context"
	"sync"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// sharedLockout is the lockout with policy redis: each pair's failures and
// reserved slots live in Redis (redisstore's lockout scripts), so the
// guarantee of Lockout — at most Max wrong passwords verified per pair and
// window, however many requests at once — holds across every gateway node
// sharing the Redis and key prefix. When a fault-tolerant store's Redis
// fails, the process-local Lockout takes over (the guarantee then holds
// per node) until Redis answers again.
//
// Round trips: a password the node has cached as right costs one
// (LockCheck: refused if locked, failures cleared); a verification costs
// two (reserve, release) around the slow hash; a pair this node has seen
// locked is refused locally until the lock ends, with none.
type sharedLockout struct {
	store *redisstore.Store
	local *Lockout
	// locks remembers pairs Redis reported locked, until the lock ends: a
	// lock cannot end early (a right password is refused while locked).
	locks *ttlcache.Cache[[32]byte, time.Time]

	mu       sync.Mutex
	inflight map[[64]byte]*sharedFlight // (pair, attempt) verified on this node
}

// sharedFlight is one verification on this node; requests with the same
// password from the same pair wait for it and share its verdict (and its
// one slot in Redis).
type sharedFlight struct {
	done   chan struct{}
	ok     bool
	locked bool
	left   time.Duration
	err    error
}

func newSharedLockout(store *redisstore.Store, local *Lockout) *sharedLockout {
	return &sharedLockout{store: store, local: local, locks: ttlcache.New[[32]byte, time.Time](LockoutCapacity),
		inflight: map[[64]byte]*sharedFlight{}}
}

func (s *sharedLockout) lockedHere(pair [32]byte) (time.Duration, bool) {
	if until, ok := s.locks.Get(pair); ok {
		if left := time.Until(until); left > 0 {
			return left, true
		}
	}
	return 0, false
}

func (s *sharedLockout) remember(pair [32]byte, st redisstore.LockState) {
	if st.Locked && st.RetryAfter > 0 {
		s.locks.Set(pair, time.Now().Add(st.RetryAfter), st.RetryAfter)
	}
}

// Cached is the path of a password this node verified before: refused
// while the pair is locked anywhere, and otherwise the pair is cleared.
func (s *sharedLockout) Cached(rep redisstore.Reporter, pair [32]byte) (left time.Duration, locked bool, err error) {
	if left, ok := s.lockedHere(pair); ok {
		return left, true, nil
	}
	st, local, err := s.store.LockCheck(context.Background(), rep, pair[:], s.local.Max)
	if err != nil {
		return 0, false, err
	}
	if local {
		if left, locked := s.local.Locked(pair); locked {
			return left, true, nil
		}
		s.local.Succeed(pair)
		return 0, false, nil
	}
	s.remember(pair, st)
	return st.RetryAfter, st.Locked, nil
}

// Attempt verifies a password under the shared lockout: a slot is reserved
// in Redis before verify runs, and the verdict recorded after.
func (s *sharedLockout) Attempt(rep redisstore.Reporter, pair, attempt [32]byte, verify func() bool) (ok bool, left time.Duration, locked bool, err error) {
	if left, ok := s.lockedHere(pair); ok {
		return false, left, true, nil
	}
	var k [64]byte
	copy(k[:32], pair[:])
	copy(k[32:], attempt[:])
	s.mu.Lock()
	if f := s.inflight[k]; f != nil {
		s.mu.Unlock()
		<-f.done
		return f.ok, f.left, f.locked, f.err
	}
	f := &sharedFlight{done: make(chan struct{})}
	s.inflight[k] = f
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, k)
		s.mu.Unlock()
		f.ok, f.left, f.locked, f.err = ok, left, locked, err
		close(f.done)
	}()

	ctx := context.Background()
	slot := redisstore.NewSlot()
	st, local, err := s.store.LockReserve(ctx, rep, pair[:], s.local.Max, s.local.Window, slot)
	switch {
	case err != nil:
		return false, 0, false, err
	case local:
		ok, left, locked = s.local.Attempt(pair, attempt, verify)
		return ok, left, locked, nil
	case st.Locked || st.Busy:
		s.remember(pair, st)
		return false, st.RetryAfter, true, nil
	}
	released := false
	defer func() {
		if !released {
			// verify panicked: release the slot as a failure (fail
			// closed), then let the panic go on.
			s.store.LockRelease(ctx, nil, pair[:], s.local.Max, s.local.Window, slot, false)
		}
	}()
	ok = verify()
	released = true
	st, local, err = s.store.LockRelease(ctx, rep, pair[:], s.local.Max, s.local.Window, slot, ok)
	switch {
	case err != nil:
		return false, 0, false, err
	case local:
		// Redis failed after the reservation: the verdict is kept
		// locally (no second hash) so it still counts on this node.
		s.local.Attempt(pair, attempt, func() bool { return ok })
	default:
		s.remember(pair, st)
	}
	return ok, 0, false, nil
}
