package dpop

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFirstSeen: recording a proof costs the same with a thousand or
// a million unexpired proofs in the store (O(1)). Steady state: every
// proof lives 330 s (the default lifetime plus leeway), the clock moves so
// that one proof expires per new one, and the store holds n.
func BenchmarkFirstSeen(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			const ttl = 330 * time.Second
			step := ttl / time.Duration(n)
			clock := time.Unix(1_700_000_000, 0)
			s := NewMemoryStore(4*n+4096, 4*n+4096) // shards fill unevenly
			s.now = func() time.Time { return clock }
			ctx := context.Background()
			for i := range n {
				s.FirstSeen(ctx, "fill", ReplayKey("fill", strconv.Itoa(i)), ttl)
				clock = clock.Add(step)
			}
			keys := make([]string, 1<<20)
			for i := range keys {
				keys[i] = ReplayKey("bench", strconv.Itoa(i))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.FirstSeen(ctx, "bench", keys[i%len(keys)], ttl); err != nil {
					b.Fatal(err)
				}
				clock = clock.Add(step)
				i++
			}
			if l := s.Len(); l > n+n/10+64 {
				b.Fatalf("the store grew to %d", l)
			}
		})
	}
}

// BenchmarkMapFloor is the floor of BenchmarkFirstSeen: a bare Go map of
// n uint64 keys, one insert and one delete per op. Past the CPU caches a
// random map access costs a memory load, whatever the algorithm.
func BenchmarkMapFloor(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			m := make(map[uint64]int64)
			keys := make([]uint64, n+1<<20)
			for i := range keys {
				keys[i] = hash64(ReplayKey("floor", strconv.Itoa(i)))
			}
			for i := range n {
				m[keys[i]] = 1
			}
			i := 0
			for b.Loop() {
				m[keys[(n+i)%len(keys)]] = 1
				delete(m, keys[i%len(keys)])
				i++
			}
		})
	}
}

// BenchmarkCheck is one proof's checks (parse, signature, claims) without
// the store, per algorithm.
func BenchmarkCheck(b *testing.B) {
	for _, k := range []*testKey{newES256(b), newRS256(b), newEdDSA(b)} {
		b.Run(k.alg, func(b *testing.B) {
			v := newVerifier(b, Options{})
			p := k.proof(b, claims(testReq, time.Now()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Check(p, testReq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMemoryStoreBytesPerEntry measures the heap a full store holds: the
// figure behind DefaultCapacity's "about 56 bytes each" (53 measured: the
// owner of each entry adds 11 to the 42 of a store without shares).
func TestMemoryStoreBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a 200,000-entry store")
	}
	const n = 200_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewMemoryStore(4*n+4096, 4*n+4096) // shards fill unevenly
	ctx := context.Background()
	for i := range n {
		if _, err := s.FirstSeen(ctx, "k", ReplayKey("k", strconv.Itoa(i)), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d entries: %.0f bytes each", s.Len(), per)
	if s.Len() != n || per > 96 {
		t.Fatalf("%d entries, %.0f bytes each", s.Len(), per)
	}
	runtime.KeepAlive(s)
}

// BenchmarkSignatureOnly is BenchmarkCheck's floor: the one signature
// verification a proof needs, with the key already parsed.
func BenchmarkSignatureOnly(b *testing.B) {
	for _, k := range []*testKey{newES256(b), newRS256(b), newEdDSA(b)} {
		b.Run(k.alg, func(b *testing.B) {
			p := k.proof(b, claims(testReq, time.Now()))
			i := strings.LastIndexByte(p, '.')
			sig, _ := b64.DecodeString(p[i+1:])
			a := algorithms[k.alg]
			pub := k.key.Public()
			b.ReportAllocs()
			for b.Loop() {
				if err := a.method.Verify(p[:i], sig, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRetentionGuaranteed: the retention check every DPoP Check
// makes (one atomic load, a walk over a few steps, no lock).
func BenchmarkRetentionGuaranteed(b *testing.B) {
	clock := time.Unix(1_700_000_000, 0)
	r := NewRetention(func() time.Time { return clock })
	for i := 1; i <= 4; i++ {
		r.Register(time.Duration(i) * 100 * time.Second)
		clock = clock.Add(100 * time.Second)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r.Guaranteed(clock) == 0 {
			b.Fatal("nothing guaranteed")
		}
	}
}
