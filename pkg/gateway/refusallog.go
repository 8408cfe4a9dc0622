package gateway

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// A config that does not compile refuses every request on its route with
// 500 CONFIG_INVALID, and used to write one [error] line per request:
// 255,488 lines in one minute of a churn run (issue 23). Each refusal still
// gets its status, body, serialize value and metric, but its error.log line
// is written at most once per RefusalLogInterval per compiled config and
// route (Kong plugin id), with
// the number of requests it stands for in the record's "count" field
// (authlog.Record.Count), so `authkit logs` still counts every one. The
// same holds for a compiled config whose credentials_file is broken (also
// CONFIG_INVALID, found at request time): one cause, every request, until
// an operator acts.
//
// 10 s: a bad deploy costs at most 6 lines a minute per broken config (a
// few KiB, however heavy the traffic), while an operator tailing error.log
// still sees the refusals continue within seconds; the first refusal of a
// config is logged at once.
const RefusalLogInterval = 10 * time.Second

// refusalGate throttles the log lines of one compiled config's refusals.
type refusalGate struct {
	mu      sync.Mutex
	last    time.Time       // when the last line was written; zero: never
	pending int64           // refusals since, in no line yet
	level   string          // of the pending refusals' line
	rec     *authlog.Record // the latest pending refusal, for the tail's line
	queued  bool            // in tails
}

// admit counts one refusal at now and returns how many refusals its line
// stands for (this one included), or 0 when the line is held back: the
// refusal is then pending, and written with the config's next line or as a
// tail by the next event of the process (flushTails).
func (g *refusalGate) admit(now time.Time, level string, rec *authlog.Record) int64 {
	g.mu.Lock()
	g.pending++
	if g.last.IsZero() || now.Sub(g.last) >= RefusalLogInterval {
		n := g.pending
		g.last, g.pending, g.rec = now, 0, nil
		g.mu.Unlock()
		return n
	}
	g.level, g.rec = level, rec
	queue := !g.queued
	g.queued = true
	g.mu.Unlock()
	if queue {
		tails.add(g) // outside g.mu: flushTails takes tails.mu, then g.mu
	}
	return 0
}

// due returns the pending tail's line when the interval since the last
// line has passed, and whether the gate is done (nothing pending).
func (g *refusalGate) due(now time.Time) (level string, rec *authlog.Record, n int64, done bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == 0 {
		g.queued = false
		return "", nil, 0, true
	}
	if now.Sub(g.last) < RefusalLogInterval {
		return "", nil, 0, false
	}
	level, rec, n = g.level, g.rec, g.pending
	g.last, g.pending, g.rec, g.queued = now, 0, nil, false
	return level, rec, n, true
}

// tails are the gates holding refusals in no line yet. A gate's config may
// never be requested again (fixed, or no more traffic), so its tail is
// written by whatever event the process serves next once the interval has
// passed: the record names its own route and plugin, only nginx's context
// of the line (client, request) is the carrier's.
var tails tailSet

type tailSet struct {
	n   atomic.Int64 // len(set), read without the lock on every event
	mu  sync.Mutex
	set map[*refusalGate]struct{}
}

func (t *tailSet) add(g *refusalGate) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.set == nil {
		t.set = map[*refusalGate]struct{}{}
	}
	t.set[g] = struct{}{}
	t.n.Store(int64(len(t.set)))
}

// flushTails writes the tails that are due, through this event's Kong.
// Free when nothing is pending (one atomic load). The lines are written
// after the set's lock is released: a PDK call must not hold up the other
// events.
func (s *session) flushTails() {
	if tails.n.Load() == 0 {
		return
	}
	for _, l := range tails.due(s.now()) {
		_ = s.kong.Log(l.level, counted(l.rec, l.n))
	}
}

type tailLine struct {
	level string
	rec   *authlog.Record
	n     int64
}

func (t *tailSet) due(now time.Time) []tailLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []tailLine
	for g := range t.set {
		level, rec, n, done := g.due(now)
		if rec != nil {
			lines = append(lines, tailLine{level, rec, n})
		}
		if done {
			delete(t.set, g)
		}
	}
	t.n.Store(int64(len(t.set)))
	return lines
}

// logRefusal writes a refusal's error.log line: every time, or through the
// session's gate (a config that does not compile).
func (s *session) logRefusal(level string, rec *authlog.Record) {
	if s.gate == nil {
		_ = s.kong.Log(level, rec.Line())
		return
	}
	if n := s.gate.admit(s.now(), level, rec); n > 0 {
		_ = s.kong.Log(level, counted(rec, n))
	}
}

// counted renders rec's line standing for n refusals.
func counted(rec *authlog.Record, n int64) string {
	r := *rec
	r.Count = n
	return r.Line()
}

// now is the clock of the refusal log: the wall clock, or in test seam
// builds the request's testClockHeader (Unix milliseconds), so the
// wire-level tests move time without sleeping.
func (s *session) now() time.Time {
	if testClockHeader != "" {
		if ms, err := strconv.ParseInt(s.req.Header(testClockHeader), 10, 64); err == nil {
			return time.UnixMilli(ms)
		}
	}
	return time.Now()
}

// gate is the refusal gate of this instance's compiled config (Compile
// keeps the entry in the memo, errors included) and Kong plugin id: one
// per config and route, shared by Kong's workers (each starts its own
// instance of a config), so each line names its route. Nil without a memo.
func (m *Meta) gate() *refusalGate {
	if m == nil || m.memo == nil {
		return nil
	}
	e := m.memo.entry.Load()
	if e == nil {
		return nil
	}
	e.gatesMu.Lock()
	defer e.gatesMu.Unlock()
	g := e.gates[m.PluginID]
	if g == nil {
		if e.gates == nil {
			e.gates = map[string]*refusalGate{}
		}
		g = &refusalGate{}
		e.gates[m.PluginID] = g
	}
	return g
}
