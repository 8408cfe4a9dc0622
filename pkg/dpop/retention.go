package dpop

import (
	"sync"
	"sync/atomic"
	"time"
)

// Retention is how long the replay store keeps a spent jti, for every
// configuration of the process at once (RFC 9449 §11.1: a jti is kept
// "for the time window in which the respective DPoP proof JWT would be
// accepted" — by any configuration that could accept it, not only the
// one that spent it; issue 23).
//
// Every Verifier registers its window (dpop_proof_lifetime + leeway).
// The retention is the largest window registered so far (a high-water
// mark: lowering a lifetime keeps the larger retention until the plugin
// process restarts), and Spend keeps every jti until iat + retention.
// That alone does not cover the proofs spent before a raise: they were
// kept for the smaller window. So a raise is a step (since, window), and
// Check accepts a proof only for as long as the retention in force when
// it could first have been spent (Guaranteed): after a raise from 60 s to
// 600 s, a proof whose iat predates the raise (by less than the new
// window) is accepted for 60 s (+ leeway), not 600 s; the new window
// applies in full to proofs made one window after the raise.
//
// Steps are an immutable slice behind an atomic pointer: readers never
// lock, Register copies (values shared between goroutines are never
// written after publication).
type Retention struct {
	mu    sync.Mutex // serialises Register
	steps atomic.Pointer[[]step]
	now   func() time.Time
}

type step struct {
	since  int64 // unix ns: from then on every spend keeps window
	window time.Duration
}

// maxSteps bounds the history. Dropping steps that a proof in its window
// may still need makes Guaranteed answer 0 for them (refused, never
// accepted unchecked); see Register.
const maxSteps = 64

// NewRetention returns an empty Retention on the clock now (time.Now when
// nil).
func NewRetention(now func() time.Time) *Retention {
	if now == nil {
		now = time.Now
	}
	r := &Retention{now: now}
	r.steps.Store(&[]step{})
	return r
}

// Register records a configuration's window: lifetime + leeway.
func (r *Retention) Register(window time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.steps.Load()
	if len(old) > 0 && window <= old[len(old)-1].window {
		return
	}
	now := r.now().UnixNano()
	// A step is needed while a query can land in it: Guaranteed asks at
	// iat - window, and a proof in its window has iat ≥ now - window, so
	// queries are ≥ now - 2·window. Steps ending before that go.
	horizon := now - 2*int64(window)
	keep := 0
	for keep+1 < len(old) && old[keep+1].since <= horizon {
		keep++
	}
	steps := append(append(make([]step, 0, len(old)-keep+1), old[keep:]...), step{now, window})
	if len(steps) > maxSteps {
		steps = steps[len(steps)-maxSteps:]
		steps[0].window = 0 // what came before is forgotten: refuse, not accept
	}
	r.steps.Store(&steps)
}

// Window is the retention now in force: the largest window registered.
func (r *Retention) Window() time.Duration {
	s := *r.steps.Load()
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].window
}

// Guaranteed is how long after iat a proof with that iat is provably
// remembered once spent, whenever it was spent. A spend needs the proof
// to be checked first, so it happened at iat - leeway at the earliest,
// and every spender's leeway is within the retention now in force (a
// window includes its leeway): the earliest spend is after iat - Window().
// Retention only grows, so the step in force at that instant is the
// smallest any spend of this proof used. Before the first step nothing
// was spent in this process: the first step answers.
func (r *Retention) Guaranteed(iat time.Time) time.Duration {
	s := *r.steps.Load()
	if len(s) == 0 {
		return 0
	}
	at := iat.UnixNano() - int64(s[len(s)-1].window)
	g := s[0].window
	for _, st := range s[1:] {
		if st.since > at {
			break
		}
		g = st.window
	}
	return g
}

var processRetention struct {
	once sync.Once
	r    *Retention
}

// ProcessRetention is the Retention of ProcessStore, shared by every
// configuration of the plugin process (and by the Redis replay keys it
// writes with policy redis, whose TTL is the same iat + Window()).
func ProcessRetention() *Retention {
	processRetention.once.Do(func() { processRetention.r = NewRetention(nil) })
	return processRetention.r
}
