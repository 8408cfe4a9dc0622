package dpop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// TestRetentionGuaranteed: the retention a proof of a given iat can rely
// on, across raises, a lowering, and before the first registration.
func TestRetentionGuaranteed(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clock := t0
	r := NewRetention(func() time.Time { return clock })
	if r.Guaranteed(t0) != 0 || r.Window() != 0 {
		t.Fatal("empty retention promises nothing")
	}
	r.Register(90 * time.Second) // at t0
	clock = t0.Add(1000 * time.Second)
	r.Register(630 * time.Second) // raised at t0+1000
	clock = t0.Add(2000 * time.Second)
	r.Register(60 * time.Second) // a lower window changes nothing
	if r.Window() != 630*time.Second {
		t.Fatalf("window %s", r.Window())
	}
	for _, tt := range []struct {
		iat  time.Duration // after t0
		want time.Duration
	}{
		{-500 * time.Second, 90 * time.Second},  // before the first step
		{1000 * time.Second, 90 * time.Second},  // iat at the raise: could be spent before it
		{1629 * time.Second, 90 * time.Second},  // iat - 630 s still before the raise
		{1630 * time.Second, 630 * time.Second}, // first spend possible at the raise
		{5000 * time.Second, 630 * time.Second},
	} {
		if got := r.Guaranteed(t0.Add(tt.iat)); got != tt.want {
			t.Errorf("iat t0%+ds: %s, want %s", int(tt.iat/time.Second), got, tt.want)
		}
	}
}

// TestRetentionPrunes: steps nobody can query any more go; too many raises
// within one window forget the oldest by refusing (0), never by accepting.
func TestRetentionPrunes(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clock := t0
	r := NewRetention(func() time.Time { return clock })
	for i := 1; i <= 10; i++ {
		r.Register(time.Duration(i) * time.Second)
		clock = clock.Add(time.Hour)
	}
	if n := len(*r.steps.Load()); n != 2 { // the last, and the one its queries reach back to
		t.Fatalf("%d steps kept, want 2", n)
	}
	for i := 11; i <= 11+maxSteps; i++ {
		r.Register(time.Duration(i) * time.Hour)
		clock = clock.Add(time.Second)
	}
	s := *r.steps.Load()
	if len(s) != maxSteps || s[0].window != 0 {
		t.Fatalf("%d steps, first %s", len(s), s[0].window)
	}
	if r.Guaranteed(t0) != 0 {
		t.Fatal("a forgotten step must refuse")
	}
}

// TestRaisedLifetimeKeepsSpentProofsSpent (issue 23, defect 2): a proof
// spent under dpop_proof_lifetime 60 s is not accepted again by a config
// with 600 s once the 60 s entry is gone, while a fresh proof passes and a
// proof made after the raise gets the full new window.
func TestRaisedLifetimeKeepsSpentProofsSpent(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clock := t0
	now := func() time.Time { return clock }
	store, ret := NewMemoryStore(1000, 0), NewRetention(now)
	store.now = now
	es := newES256(t)
	v60, _ := NewVerifier(Options{Lifetime: time.Minute, Replay: store, Retention: ret, Now: now})
	p, err := v60.Check(es.proof(t, claims(testReq, clock)), testReq)
	if err != nil {
		t.Fatal(err)
	}
	if err := v60.Spend(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	clock = t0.Add(61 * time.Second) // the 60 s entry is gone
	v600, _ := NewVerifier(Options{Lifetime: 10 * time.Minute, Replay: store, Retention: ret, Now: now})
	if _, err := v600.Check(es.proof(t, claims(testReq, t0)), testReq); !errors.Is(err, errcode.DPoPProofExpired) {
		t.Fatalf("the spent proof under the raised lifetime: %v", err)
	}
	fresh, err := v600.Check(es.proof(t, claims(testReq, clock)), testReq)
	if err != nil || v600.Spend(context.Background(), fresh) != nil {
		t.Fatalf("a fresh proof: %v", err)
	}
	// Spent now, it is kept for the raised window, for every config.
	clock = clock.Add(9 * time.Minute)
	if f, _ := store.FirstSeen(context.Background(), fresh.Thumbprint, ReplayKey(fresh.Thumbprint, fresh.JTI), time.Second); f {
		t.Fatal("spent under 600 s, forgotten after 540 s")
	}
	// A proof made one window after the raise gets the full lifetime.
	clock = t0.Add(61*time.Second + 20*time.Minute)
	if _, err := v600.Check(es.proof(t, claims(testReq, clock.Add(-599*time.Second))), testReq); err != nil {
		t.Fatalf("one window after the raise, the full lifetime applies: %v", err)
	}
}
