package introspect

import (
	"sync"
	"sync/atomic"
	"time"
)

// Storage lifetime. Readers apply their own TTLs, so an answer is kept as
// long as the longest TTL of any Client in use would read it (an active
// one never past exp). The maxima follow the Clients in use: a Client
// counts from its first introspection until Close (its compiled config
// released), so one config with a day-long TTL, once gone, no longer
// makes the process (and Redis, with the shared tier) keep every answer
// for a day. Answers stored under a larger maximum simply expire later.
type lifetimes struct {
	mu       sync.Mutex
	pos, neg map[time.Duration]int
	maxPos   atomic.Int64
	maxNeg   atomic.Int64
}

var live = &lifetimes{pos: map[time.Duration]int{}, neg: map[time.Duration]int{}}

func (l *lifetimes) add(pos, neg time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pos[pos]++
	l.neg[neg]++
	l.publish()
}

func (l *lifetimes) remove(pos, neg time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range []struct {
		m map[time.Duration]int
		d time.Duration
	}{{l.pos, pos}, {l.neg, neg}} {
		if m.m[m.d]--; m.m[m.d] <= 0 {
			delete(m.m, m.d)
		}
	}
	l.publish()
}

func (l *lifetimes) publish() {
	l.maxPos.Store(int64(maxKey(l.pos)))
	l.maxNeg.Store(int64(maxKey(l.neg)))
}

func maxKey(m map[time.Duration]int) time.Duration {
	var top time.Duration
	for d := range m {
		top = max(top, d)
	}
	return top
}

func (l *lifetimes) maxTTL() time.Duration    { return time.Duration(l.maxPos.Load()) }
func (l *lifetimes) maxNegTTL() time.Duration { return time.Duration(l.maxNeg.Load()) }

// Client registration states.
const (
	unregistered int32 = iota
	registered
	closed
)

// register counts c's TTLs in the storage lifetime, once, before its first
// answer is stored; a closed Client (a request still in flight after its
// config was released) is not counted again.
func (c *Client) register() {
	if c.reg.Load() != unregistered {
		return
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	if c.reg.Load() == unregistered {
		live.add(c.opts.CacheTTL, c.opts.NegativeTTL)
		c.reg.Store(registered)
	}
}

// Close takes c's TTLs out of the storage lifetime. The gateway calls it
// when the compiled config that built c is released; c still answers
// afterwards. Idempotent.
func (c *Client) Close() {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	if c.reg.Swap(closed) == registered {
		live.remove(c.opts.CacheTTL, c.opts.NegativeTTL)
	}
}
