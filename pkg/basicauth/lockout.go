package basicauth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// Lockout counts failed attempts per (username, client IP) in a fixed
// window: after Max failures the pair is refused for the rest of the
// window without any hashing, which also caps the CPU an attacker can make
// the gateway spend on one account from one address.
type Lockout struct {
	Max    int
	Window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	m      *ttlcache.Cache[[32]byte, *window]
}

type window struct {
	failures int
	until    time.Time
}

// NewLockout returns nil (no lockout) when max or window is zero.
func NewLockout(max int, span time.Duration) *Lockout {
	if max <= 0 || span <= 0 {
		return nil
	}
	return &Lockout{Max: max, Window: span, now: time.Now, m: ttlcache.New[[32]byte, *window](100000)}
}

func lockKey(user, ip string) [32]byte {
	h := sha256.New()
	writeLP(h, user)
	writeLP(h, ip)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Locked reports whether the pair is locked and for how long.
func (l *Lockout) Locked(user, ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.m.Get(lockKey(user, ip))
	if !ok || w.failures < l.Max {
		return 0, false
	}
	return w.until.Sub(l.now()), true
}

// Fail records a failed attempt.
func (l *Lockout) Fail(user, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := lockKey(user, ip)
	now := l.now()
	w, ok := l.m.Get(k)
	if !ok {
		w = &window{until: now.Add(l.Window)}
	}
	w.failures++
	l.m.Set(k, w, w.until.Sub(now))
}

// Succeed clears the pair's failures.
func (l *Lockout) Succeed(user, ip string) {
	l.mu.Lock()
	l.m.Delete(lockKey(user, ip))
	l.mu.Unlock()
}
