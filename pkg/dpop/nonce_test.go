package dpop

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// fakeKeys is a NonceKeys: one random secret per (period, issued), like
// the Redis store; fail and local switch it to a failing store.
type fakeKeys struct {
	mu      sync.Mutex
	m       map[[2]int64][]byte
	calls   int
	fail    error
	goLocal bool
}

func newFakeKeys() *fakeKeys { return &fakeKeys{m: map[[2]int64][]byte{}} }

func (f *fakeKeys) NonceKey(_ context.Context, period time.Duration, issued int64) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil || f.goLocal {
		return nil, f.goLocal, f.fail
	}
	k := [2]int64{int64(period), issued}
	if f.m[k] == nil {
		f.m[k] = make([]byte, 32)
		rand.Read(f.m[k])
	}
	return f.m[k], false, nil
}

// TestSharedNonces: two nodes (two Nonces, each with its own process
// secret) sharing one key store accept each other's nonces, across a
// rotation; a node without the store does not; a failing store refuses
// (strict) or falls back to the node's own nonces (fault tolerant).
func TestSharedNonces(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { return clock }
	keys := newFakeKeys()
	a := NewNonces([]byte("node-a-secret-node-a-secret-0123"), time.Minute, now).Shared(keys)
	b := NewNonces([]byte("node-b-secret-node-b-secret-0123"), time.Minute, now).Shared(keys)
	alone := NewNonces([]byte("node-b-secret-node-b-secret-0123"), time.Minute, now)
	ctx := context.Background()
	na := current(t, a)
	if ok, cur, err := b.Valid(ctx, na); !ok || !cur || err != nil {
		t.Fatalf("B on A's nonce: %v %v %v", ok, cur, err)
	}
	if ok, _, _ := alone.Valid(ctx, na); ok {
		t.Fatal("a node without the shared keys accepted a shared nonce")
	}
	clock = clock.Add(time.Minute) // rotated: a new secret, the old one still valid
	if nb := current(t, b); nb == na {
		t.Fatal("no rotation")
	}
	if ok, cur, err := a.Valid(ctx, na); !ok || cur || err != nil {
		t.Fatalf("previous period's nonce after rotation: %v %v %v", ok, cur, err)
	}
	calls := keys.calls
	forged := na[:len(na)-2] + "AA"
	if ok, _, _ := b.Valid(ctx, forged); ok {
		t.Fatal("forged")
	}
	clock = clock.Add(2 * time.Minute)
	if ok, _, _ := b.Valid(ctx, na); ok || keys.calls != calls+1 {
		t.Fatalf("stale nonce accepted, or looked up (%d calls)", keys.calls-calls)
	}

	strictErr := errcode.New(errcode.RedisUnavailable, "down")
	keys.fail = strictErr
	if _, err := a.Current(ctx); !errors.Is(err, errcode.RedisUnavailable) {
		t.Fatalf("strict, store down: %v", err)
	}
	keys.fail, keys.goLocal = nil, true
	own := current(t, a)
	if ok, _, err := a.Valid(ctx, own); !ok || err != nil {
		t.Fatalf("tolerant: a node accepts its own fallback nonce: %v %v", ok, err)
	}
	if ok, _, _ := b.Valid(ctx, own); ok {
		t.Fatal("another node accepted a process-local nonce")
	}
}

// TestNonceValidTable: the shapes Valid refuses without a store lookup.
func TestNonceValidTable(t *testing.T) {
	clock := time.Unix(1_700_000_040, 0)
	now := func() time.Time { return clock }
	keys := newFakeKeys()
	n := NewNonces([]byte("secret-secret-secret-secret-0123"), time.Minute, now).Shared(keys)
	local := NewNonces([]byte("secret-secret-secret-secret-0123"), time.Minute, now)
	shared := func(issued int64) string { return n.make(make([]byte, 32), issued, true) }
	for _, tt := range []struct {
		name, nonce string
	}{
		{"empty", ""},
		{"short", "abc"},
		{"not base64", "********************************"},
		{"future", shared(1_700_000_100)},
		{"unaligned", shared(1_700_000_001)},
		{"two periods old", shared(1_700_000_040 - 120)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := keys.calls
			if ok, _, err := n.Valid(context.Background(), tt.nonce); ok || err != nil || keys.calls != calls {
				t.Fatalf("%v %v, %d lookups", ok, err, keys.calls-calls)
			}
			if ok, _, _ := local.Valid(context.Background(), tt.nonce); ok {
				t.Fatal("local accepted")
			}
		})
	}
}

// FuzzNonceValid: Valid never panics, accepts only what Current could
// have made (a nonce of a live period, signed with the right secret), and
// never asks the key store about a nonce whose period is not live.
func FuzzNonceValid(f *testing.F) {
	clock := time.Unix(1_700_000_040, 0)
	now := func() time.Time { return clock }
	keys := newFakeKeys()
	n := NewNonces([]byte("secret-secret-secret-secret-0123"), time.Minute, now).Shared(keys)
	local := NewNonces([]byte("secret-secret-secret-secret-0123"), time.Minute, now)
	cur, err := n.Current(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	lcur, _ := local.Current(context.Background())
	for _, s := range []string{cur, lcur, "", "x", cur[:31] + "A", lcur[:31] + "B", "////////////////////////////////"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, nonce string) {
		calls := keys.calls
		ok, current, err := n.Valid(context.Background(), nonce)
		if err != nil {
			t.Fatal(err)
		}
		if ok && nonce != cur && nonce != lcur {
			t.Fatalf("accepted %q, the current nonces are %q and %q", nonce, cur, lcur)
		}
		if current && !ok {
			t.Fatal("current but invalid")
		}
		if keys.calls > calls+1 {
			t.Fatalf("%d lookups for one nonce", keys.calls-calls)
		}
	})
}
