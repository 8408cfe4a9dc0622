package authlog

import (
	"sort"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Filter selects the events a report covers. The zero Filter selects all.
type Filter struct {
	// Since drops events before it, Until events after it. Events without
	// a timestamp are dropped too when either is set: they cannot be shown
	// to be in the window (Totals.Untimed says how many there were).
	Since, Until time.Time
	// Codes keeps only these codes (case-insensitive); empty keeps all.
	Codes []string
	// Plugins keeps only these plugin names (case-insensitive); empty keeps all.
	Plugins []string
}

// Match reports whether ev passes the filter.
func (f Filter) Match(ev Event) bool {
	if f.Windowed() && ev.Time.IsZero() ||
		!f.Since.IsZero() && ev.Time.Before(f.Since) || !f.Until.IsZero() && ev.Time.After(f.Until) {
		return false
	}
	return anyFold(f.Codes, ev.Record.Code) && anyFold(f.Plugins, ev.Record.Plugin)
}

// Windowed reports whether the filter selects by time.
func (f Filter) Windowed() bool { return !f.Since.IsZero() || !f.Until.IsZero() }

func anyFold(list []string, s string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// MaxLineRefs is how many unparseable lines a report locates. The count is
// always exact; the locations are a sample to start looking from.
const MaxLineRefs = 5

// LineRef locates an unparseable line.
type LineRef struct {
	Source string `json:"source"`
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

// Totals are the whole-input counts. Lines = records + NotAuthkit +
// Unparseable + Foreign, where a record with a count (Record.Count) is
// that many Events; Matched <= Events.
type Totals struct {
	Lines int64 `json:"lines"`
	// Events are authkit records read, before filtering.
	Events int64 `json:"authkit_events"`
	// Matched are events that passed the filter and are in the report.
	Matched int64 `json:"matched"`
	// NotAuthkit are lines without a record: ordinary traffic and logging.
	NotAuthkit int64 `json:"not_authkit"`
	// Unparseable are lines that are ours but broken, or too long to read.
	Unparseable int64 `json:"unparseable"`
	// Foreign are lines that mention `authkit {` but were not written by
	// the plugins (Kind Foreign): never counted as events.
	Foreign int64 `json:"foreign"`
	// Untimed are events whose time could not be read; a --since/--until
	// window (Filter.Windowed) excludes them.
	Untimed int64 `json:"untimed_events"`
}

// CodeReport summarises one code.
type CodeReport struct {
	Code string `json:"code"`
	// Status is the status the records carried (the last non-zero one).
	Status int       `json:"status,omitempty"`
	Count  int64     `json:"count"`
	First  time.Time `json:"first,omitzero"`
	Last   time.Time `json:"last,omitzero"`
	// Plugins names the plugins that wrote the code.
	Plugins []string `json:"plugins"`
	// Anonymous counts events that fell back to the anonymous consumer
	// instead of being refused.
	Anonymous int64 `json:"anonymous"`
	// Accepted counts warnings about requests that were let through
	// (outcome "accepted", e.g. a token validated with stale keys while the
	// provider failed): not refusals.
	Accepted int64 `json:"accepted"`
	// Outcomes counts the events by outcome, keyed by the catalog's
	// vocabulary (errcode.Outcomes: accepted, refused, anonymous), the
	// values of the metrics' outcome label. Every outcome is present.
	Outcomes  map[errcode.Outcome]int64 `json:"outcomes"`
	Routes    Top                       `json:"routes"`
	Clients   Top                       `json:"clients"`
	Consumers Top                       `json:"consumers"`
}

// Report is an Aggregator's result.
type Report struct {
	Totals Totals `json:"totals"`
	// Codes is sorted by count, highest first, then by code.
	Codes []CodeReport `json:"codes"`
	// Unparseable locates the first MaxLineRefs unparseable lines.
	Unparseable []LineRef `json:"unparseable_lines"`
	// Foreign locates the first MaxLineRefs foreign lines.
	Foreign []LineRef `json:"foreign_lines"`
}

type codeStats struct {
	status      int
	count       int64
	first, last time.Time
	plugins     *counter
	outcomes    [3]int64 // indexed like errcode.Outcomes
	routes      *counter
	clients     *counter
	consumers   *counter
}

// Aggregator counts events per code in bounded memory (see MaxKeys,
// MaxCodes): reading 200k lines costs the same as reading 20k once the
// limits are reached. It is not safe for concurrent use.
type Aggregator struct {
	// Parser reads the lines given to AddLine.
	Parser Parser

	filter     Filter
	codes      map[string]*codeStats
	routeNames map[string]string
	totals     Totals
	refs       []LineRef
	foreign    []LineRef
}

// NewAggregator returns an Aggregator that reports the events matching f.
func NewAggregator(f Filter) *Aggregator {
	return &Aggregator{filter: f, codes: map[string]*codeStats{}, routeNames: map[string]string{}}
}

// AddLine parses and counts one line (lineNo counts from 1 within source).
// It returns the event and true when the line is an authkit event that
// passes the filter, so a follower can print it as it arrives.
func (a *Aggregator) AddLine(source string, lineNo int64, line []byte) (Event, bool) {
	ev, kind, err := a.Parser.Parse(line)
	switch {
	case err != nil:
		a.AddUnparseable(source, lineNo, err.Error())
		return Event{}, false
	case kind == Other:
		a.totals.Lines++
		a.totals.NotAuthkit++
		return Event{}, false
	case kind == Foreign:
		a.totals.Lines++
		a.totals.Foreign++
		a.foreign = addRef(a.foreign, source, lineNo, "mentions authkit but is not a line the plugins write")
		return Event{}, false
	}
	a.totals.Lines++
	return ev, a.Add(ev)
}

// AddUnparseable counts a line that could not be read (also one LineReader
// skipped as too long).
func (a *Aggregator) AddUnparseable(source string, lineNo int64, reason string) {
	a.totals.Lines++
	a.totals.Unparseable++
	a.refs = addRef(a.refs, source, lineNo, reason)
}

// addRef keeps the first MaxLineRefs locations.
func addRef(refs []LineRef, source string, lineNo int64, reason string) []LineRef {
	if len(refs) >= MaxLineRefs {
		return refs
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return append(refs, LineRef{Source: source, Line: lineNo, Reason: strings.Clone(reason)})
}

// Add counts one record (not a line: Totals.Lines is AddLine's) and reports
// whether it passed the filter. A record stands for Record.Events() events:
// the refusals of a config that does not compile are logged once per
// interval with their count.
func (a *Aggregator) Add(ev Event) bool {
	n := ev.Record.Events()
	a.totals.Events += n
	if ev.Time.IsZero() {
		a.totals.Untimed += n
	}
	if !a.filter.Match(ev) {
		return false
	}
	a.totals.Matched += n
	code := truncateKey(ev.Record.Code)
	s := a.codes[code]
	if s == nil {
		if len(a.codes) >= MaxCodes {
			code = OverflowCode
			s = a.codes[code]
		}
		if s == nil {
			s = &codeStats{
				plugins: newCounter(16), routes: newCounter(MaxKeys),
				clients: newCounter(MaxKeys), consumers: newCounter(MaxKeys),
			}
			a.codes[strings.Clone(code)] = s
		}
	}
	s.count += n
	if ev.Record.Status != 0 {
		s.status = ev.Record.Status
	}
	if t := ev.Time; !t.IsZero() {
		if s.first.IsZero() || t.Before(s.first) {
			s.first = t
		}
		if t.After(s.last) {
			s.last = t
		}
	}
	s.outcomes[outcomeIndex(ev.Record.Decision())] += n
	s.plugins.add(ev.Record.Plugin, n)
	route := ev.Route
	if route == "" {
		route = ev.RouteName
	}
	s.routes.add(route, n)
	if ev.RouteName != "" && route != ev.RouteName && len(a.routeNames) < MaxKeys {
		if _, ok := a.routeNames[route]; !ok {
			a.routeNames[strings.Clone(truncateKey(route))] = strings.Clone(truncateKey(ev.RouteName))
		}
	}
	s.clients.add(ev.Client, n)
	s.consumers.add(ev.Consumer, n)
	return true
}

// outcomeIndex is o's position in errcode.Outcomes (no allocation: it is
// on the per-line path).
func outcomeIndex(o errcode.Outcome) int {
	switch o {
	case errcode.OutcomeAccepted:
		return 0
	case errcode.OutcomeAnonymous:
		return 2
	}
	return 1
}

// Report returns the current counts. It can be called at any time (a
// follower reports on exit) and does not reset anything.
func (a *Aggregator) Report() Report {
	r := Report{Totals: a.totals, Codes: make([]CodeReport, 0, len(a.codes)), Unparseable: append([]LineRef(nil), a.refs...),
		Foreign: append([]LineRef(nil), a.foreign...)}
	names := func(id string) string { return a.routeNames[id] }
	for code, s := range a.codes {
		cr := CodeReport{
			Code: code, Status: s.status, Count: s.count, First: s.first, Last: s.last,
			Anonymous: s.outcomes[outcomeIndex(errcode.OutcomeAnonymous)],
			Accepted:  s.outcomes[outcomeIndex(errcode.OutcomeAccepted)],
			Outcomes:  map[errcode.Outcome]int64{}, Plugins: []string{},
			Routes:    s.routes.top(TopN, names),
			Clients:   s.clients.top(TopN, nil),
			Consumers: s.consumers.top(TopN, nil),
		}
		for i, o := range errcode.Outcomes() {
			cr.Outcomes[o] = s.outcomes[i]
		}
		for _, p := range s.plugins.top(16, nil).Top {
			if p.Key != "" {
				cr.Plugins = append(cr.Plugins, p.Key)
			}
		}
		sort.Strings(cr.Plugins)
		r.Codes = append(r.Codes, cr)
	}
	sort.Slice(r.Codes, func(i, j int) bool {
		if r.Codes[i].Count != r.Codes[j].Count {
			return r.Codes[i].Count > r.Codes[j].Count
		}
		return r.Codes[i].Code < r.Codes[j].Code
	})
	return r
}
