package gateway

import (
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// TestRefusalGate: N refusals of one broken config over a duration make at
// most ceil(duration/interval)+1 lines, and the lines' counts, with the
// tail written by a later event, sum to N. The clock is injected.
func TestRefusalGate(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	step := 7 * time.Millisecond
	const n = 10_000 // 70 s of refusals, one every 7 ms
	var g refusalGate
	rec := &authlog.Record{Code: "CONFIG_INVALID"}
	var lines, sum int64
	for i := 0; i < n; i++ {
		if c := g.admit(start.Add(time.Duration(i)*step), "err", rec); c > 0 {
			lines++
			sum += c
		}
	}
	end := start.Add(n * step)
	// Not due yet: the tail stays pending.
	for _, l := range tails.due(end.Add(-time.Millisecond)) {
		if l.rec == rec {
			t.Fatal("a tail written before its interval")
		}
	}
	for _, l := range tails.due(end.Add(RefusalLogInterval)) {
		if l.rec == rec {
			lines++
			sum += l.n
		}
	}
	duration := end.Add(RefusalLogInterval).Sub(start)
	maxLines := int64((duration+RefusalLogInterval-1)/RefusalLogInterval) + 1
	if sum != n || lines > maxLines || lines < 2 {
		t.Fatalf("%d refusals over %v: %d lines (at most %d), counts sum to %d", n, duration, lines, maxLines, sum)
	}
	if tails.n.Load() != 0 {
		t.Fatalf("%d tails left", tails.n.Load())
	}
	// The next refusal after a quiet interval is logged at once, alone.
	if c := g.admit(end.Add(3*RefusalLogInterval), "err", rec); c != 1 {
		t.Fatalf("first refusal after a quiet interval: count %d", c)
	}
}

// TestRefusalGateConcurrent: refusals from many goroutines and tail
// flushes in between lose and double-count nothing (run with -race).
func TestRefusalGateConcurrent(t *testing.T) {
	var g refusalGate
	rec := &authlog.Record{Code: "CONFIG_INVALID"}
	start := time.Unix(1_900_000_000, 0)
	const workers, each = 8, 500
	counts := make(chan int64, workers*each+workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				now := start.Add(time.Duration(i) * 50 * time.Millisecond)
				if c := g.admit(now, "err", rec); c > 0 {
					counts <- c
				}
				if i%50 == 0 {
					for _, l := range tails.due(now) {
						if l.rec == rec {
							counts <- l.n
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	for _, l := range tails.due(start.Add(time.Hour)) {
		if l.rec == rec {
			counts <- l.n
		}
	}
	close(counts)
	var sum int64
	for c := range counts {
		sum += c
	}
	if sum != workers*each {
		t.Fatalf("counts sum to %d, want %d", sum, workers*each)
	}
}
