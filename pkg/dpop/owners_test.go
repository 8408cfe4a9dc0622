package dpop

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// TestMemoryStoreShare: one owner fills only its share; a replay of its
// proof is still a replay; other owners still record; the share frees as
// the owner's entries expire.
func TestMemoryStoreShare(t *testing.T) {
	const capacity, share = shards * 8, 5
	ctx := context.Background()
	s := NewMemoryStore(capacity, share)
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	steps := []struct {
		owner, jti string
		wantFirst  bool
		wantErr    error
	}{
		{"A", "0", true, nil}, {"A", "1", true, nil}, {"A", "2", true, nil}, {"A", "3", true, nil}, {"A", "4", true, nil},
		{"A", "over", false, ErrShareFull},
		{"A", "0", false, nil}, // a replay is a replay, not a full share
		{"B", "0", true, nil},
		{"A", "over", false, ErrShareFull}, // refusing did not record it
	}
	for i, st := range steps {
		first, err := s.FirstSeen(ctx, st.owner, ReplayKey(st.owner, st.jti), time.Minute)
		if first != st.wantFirst || !errors.Is(err, st.wantErr) {
			t.Fatalf("step %d (%s %s): %v %v, want %v %v", i, st.owner, st.jti, first, err, st.wantFirst, st.wantErr)
		}
	}
	if n := s.owners.held(ownerHash("A")); n != share {
		t.Fatalf("A holds %d", n)
	}
	clock = clock.Add(time.Minute)
	for i := range share {
		if first, err := s.FirstSeen(ctx, "A", ReplayKey("A", "new"+strconv.Itoa(i)), time.Minute); !first || err != nil {
			t.Fatalf("after expiry, A's proof %d: %v %v", i, first, err)
		}
	}
}

// TestMemoryStoreShareFrees: after the lifetime, every path that drops an
// entry gives its owner's charge back, so a share never leaks.
func TestMemoryStoreShareFrees(t *testing.T) {
	const share = 3
	ctx := context.Background()
	s := NewMemoryStore(shards*share*4, share)
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	for round := range 50 {
		for i := range share {
			// mixed lifetimes leave FIFOs out of order: sweep and
			// re-recording both run.
			ttl := time.Duration(1+(round+i)%3) * time.Second
			if first, err := s.FirstSeen(ctx, "A", ReplayKey("A", strconv.Itoa(i)), ttl); !first || err != nil {
				t.Fatalf("round %d proof %d: %v %v", round, i, first, err)
			}
		}
		clock = clock.Add(3 * time.Second)
	}
	for i := range s.shard {
		s.shard[i].mu.Lock()
		s.shard[i].sweep(clock.UnixNano(), &s.owners)
		s.shard[i].mu.Unlock()
	}
	if n := s.owners.held(ownerHash("A")); n != 0 || s.Len() != 0 {
		t.Fatalf("after expiry A holds %d, store %d", n, s.Len())
	}
	for i := range s.owners {
		if len(s.owners[i].n) != 0 {
			t.Fatalf("owner shard %d keeps %d owners", i, len(s.owners[i].n))
		}
	}
}

func TestMemoryStoreDefaultShare(t *testing.T) {
	for _, tt := range []struct{ capacity, share, want int }{
		{0, 0, DefaultCapacity / DefaultShareDivisor},
		{1024, 0, 64},
		{8, 0, 1},
		{100, 500, 100},
		{100, 7, 7},
	} {
		if got := NewMemoryStore(tt.capacity, tt.share).share; int(got) != tt.want {
			t.Errorf("NewMemoryStore(%d, %d) share %d, want %d", tt.capacity, tt.share, got, tt.want)
		}
	}
}

// TestSpendShareFull: a key over its share is refused with its own code
// and its thumbprint in the log fields; another key still spends.
func TestSpendShareFull(t *testing.T) {
	v := newVerifier(t, Options{Replay: NewMemoryStore(shards*8, 2)})
	a, b := newES256(t), newES256(t)
	spend := func(k *testKey) error {
		p, err := v.Check(k.proof(t, claims(testReq, time.Now())), testReq)
		if err != nil {
			t.Fatal(err)
		}
		return v.Spend(context.Background(), p)
	}
	for range 2 {
		if err := spend(a); err != nil {
			t.Fatal(err)
		}
	}
	err := spend(a)
	var coded *errcode.Error
	if !errors.As(err, &coded) || coded.Code != errcode.DPoPReplayShareFull || coded.Field("jkt") == nil {
		t.Fatalf("over the share: %v", err)
	}
	if err := spend(b); err != nil {
		t.Fatalf("another key: %v", err)
	}
}
