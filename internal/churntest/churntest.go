// Package churntest watches a plugin process from outside while a test
// changes its config many times (issue 23: state that outlives its
// scope): its open file descriptors (/proc/<pid>/fd), its connections to
// Redis (CLIENT LIST of the test's user), and from its /metrics the
// goroutines, the live heap, the objects it holds (authkit_held_objects)
// and its decision series. Tests take figures before and after the churn,
// wait for the after figures to settle within bounds (polling with a
// deadline), and report both.
package churntest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// Figures are one observation of the process.
type Figures struct {
	FDs, RedisConns, Goroutines     int
	Pools, Compiled, Routes, Series int
	HeapLiveMiB                     float64
}

func (f Figures) String() string {
	return fmt.Sprintf("fds %d, goroutines %d, redis pools %d, redis connections %d, compiled configs %d, routes %d, decision/warning series %d, live heap %.1f MiB",
		f.FDs, f.Goroutines, f.Pools, f.RedisConns, f.Compiled, f.Routes, f.Series, f.HeapLiveMiB)
}

// Target is what is watched: the process, its /metrics, and the Redis
// user its configs log in as (nil Redis: no connection count).
type Target struct {
	Pid       int
	Metrics   string
	Redis     *redistest.Server
	RedisUser string
	// Poke, when set, runs before each observation of Settle (e.g. a
	// request that keeps the live instance from being reaped as idle).
	Poke func()
}

// Observe takes the figures now.
func (w Target) Observe(t testing.TB) Figures {
	t.Helper()
	var f Figures
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", w.Pid)); err == nil {
		f.FDs = len(fds)
	} else {
		t.Fatalf("churntest: %v", err)
	}
	if w.Redis != nil {
		out, err := w.Redis.Cmd("CLIENT", "LIST")
		if err != nil {
			t.Fatalf("churntest: CLIENT LIST: %v", err)
		}
		f.RedisConns = strings.Count(out, " user="+w.RedisUser+" ")
	}
	s := promtest.Scrape(t, w.Metrics)
	f.Goroutines = int(s.Sum("go_goroutines", nil))
	f.HeapLiveMiB = s.Sum("go_gc_heap_live_bytes", nil) / (1 << 20)
	f.Pools = int(s.Sum("authkit_held_objects", map[string]string{"kind": "redis_pools"}))
	f.Compiled = int(s.Sum("authkit_held_objects", map[string]string{"kind": "compiled_configs"}))
	f.Routes = int(s.Sum("authkit_held_objects", map[string]string{"kind": "routes"}))
	f.Series = len(s.Series("authkit_decisions_total")) + len(s.Series("authkit_warnings_total"))
	return f
}

// Settle observes until within(f) holds or the deadline passes, and
// returns the last figures and whether they settled.
func (w Target) Settle(t testing.TB, deadline time.Duration, within func(Figures) bool) (Figures, bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		if w.Poke != nil {
			w.Poke()
		}
		f := w.Observe(t)
		if within(f) {
			return f, true
		}
		if time.Now().After(end) {
			return f, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
