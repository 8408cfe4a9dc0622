package authlog

import (
	"fmt"
	"maps"
	"runtime"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func TestAggregator(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 11, 27, 10, min, 0, 0, time.UTC) }
	ev := func(code, plugin, route, client, consumer string, min int) Event {
		return Event{Time: at(min), Record: Record{Code: code, Plugin: plugin, Status: 401}, Route: route, Client: client, Consumer: consumer}
	}
	a := NewAggregator(Filter{})
	a.Parser = Parser{Location: time.UTC}
	a.Add(ev("A", "authkit-basic", "r1", "c1", "", 5))
	a.Add(ev("A", "authkit-basic", "r1", "c2", "alice", 1))
	a.Add(ev("A", "authkit-key", "r2", "c1", "", 9))
	a.Add(ev("B", "authkit-key", "r2", "c1", "", 3))
	a.AddLine("f", 1, []byte("2026/11/27 10:00:00 [notice] 1#0: plain nginx line"))
	a.AddLine("f", 2, []byte(kongLine("2026/11/27 10:00:00", "notice", `authkit {"code":`, "")))
	a.AddUnparseable("f", 3, ErrLineTooLong.Error())
	a.AddLine("f", 4, []byte(kongLine("2026/11/27 10:07:00", "notice", (&Record{Code: "B", Plugin: "authkit-key", Status: 401, RouteID: "r9"}).Line(), reqTrailer)))
	a.AddLine("f", 5, []byte(`2026/11/27 10:00:00 [info] 1#0: *6 client sent invalid header line: "X.Y: authkit {\"code\":\"A\"}"`))

	r := a.Report()
	if r.Totals != (Totals{Lines: 5, Events: 5, Matched: 5, NotAuthkit: 1, Unparseable: 2, Foreign: 1}) {
		t.Errorf("totals %+v", r.Totals)
	}
	if len(r.Unparseable) != 2 || r.Unparseable[0].Line != 2 || r.Unparseable[1].Line != 3 {
		t.Errorf("refs %+v", r.Unparseable)
	}
	if len(r.Foreign) != 1 || r.Foreign[0].Line != 5 {
		t.Errorf("foreign refs %+v", r.Foreign)
	}
	if len(r.Codes) != 2 || r.Codes[0].Code != "A" || r.Codes[0].Count != 3 || r.Codes[1].Count != 2 {
		t.Fatalf("codes %+v", r.Codes)
	}
	A := r.Codes[0]
	if !A.First.Equal(at(1)) || !A.Last.Equal(at(9)) || fmt.Sprint(A.Plugins) != "[authkit-basic authkit-key]" {
		t.Errorf("A: %+v", A)
	}
	if A.Routes.Top[0] != (KeyCount{Key: "r1", Count: 2}) || A.Clients.Top[0].Key != "c1" || A.Consumers.Top[0] != (KeyCount{Key: "", Count: 2}) {
		t.Errorf("A tops: %+v %+v %+v", A.Routes, A.Clients, A.Consumers)
	}
}

func TestFilter(t *testing.T) {
	since := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ev := Event{Time: since, Record: Record{Code: "BASIC_MISSING", Plugin: "authkit-basic"}}
	for _, tc := range []struct {
		f    Filter
		ev   Event
		want bool
	}{
		{Filter{}, Event{}, true},
		{Filter{Since: since}, ev, true},
		{Filter{Since: since.Add(time.Second)}, ev, false},
		{Filter{Since: since}, Event{Record: ev.Record}, false}, // no timestamp
		{Filter{Until: since}, ev, true},
		{Filter{Until: since.Add(-time.Second)}, ev, false},
		{Filter{Since: since.Add(-time.Hour), Until: since.Add(time.Hour)}, ev, true},
		{Filter{Until: since}, Event{Record: ev.Record}, false}, // no timestamp
		{Filter{Codes: []string{"basic_missing"}}, Event{Record: ev.Record}, true},
		{Filter{Codes: []string{"basic_missing"}}, ev, true},
		{Filter{Codes: []string{"X", "Y"}}, ev, false},
		{Filter{Plugins: []string{"AUTHKIT-BASIC"}}, ev, true},
		{Filter{Plugins: []string{"authkit-key"}, Codes: []string{"BASIC_MISSING"}}, ev, false},
	} {
		if got := tc.f.Match(tc.ev); got != tc.want {
			t.Errorf("%+v on %+v: %v", tc.f, tc.ev, got)
		}
	}
}

// Distinct keys beyond the caps must not grow memory: a credential-stuffing
// log has a new client address on every line.
func TestAggregatorBounded(t *testing.T) {
	a := NewAggregator(Filter{})
	for i := range 3 * MaxKeys {
		a.Add(Event{Record: Record{Code: "C"}, Client: fmt.Sprintf("10.0.%d.%d", i/256, i%256)})
	}
	for i := range MaxCodes + 10 {
		a.Add(Event{Record: Record{Code: fmt.Sprintf("CODE_%d", i)}})
	}
	r := a.Report()
	if len(r.Codes) != MaxCodes+1 {
		t.Fatalf("%d codes, want %d", len(r.Codes), MaxCodes+1)
	}
	var other *CodeReport
	for i := range r.Codes {
		if r.Codes[i].Code == OverflowCode {
			other = &r.Codes[i]
		}
	}
	if other == nil || other.Count != 11 { // CODE_255..CODE_265 (C took one slot)
		t.Fatalf("overflow code: %+v", other)
	}
	c := r.Codes[0]
	if c.Code != "C" || c.Clients.Distinct != MaxKeys || c.Clients.Overflow != 2*MaxKeys || c.Clients.Rest != 3*MaxKeys-TopN {
		t.Errorf("clients: distinct %d overflow %d rest %d", c.Clients.Distinct, c.Clients.Overflow, c.Clients.Rest)
	}
}

func BenchmarkParseLine(b *testing.B) {
	rec := basicRecord()
	lines := map[string][]byte{
		"errorlog": []byte(kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer)),
		"filelog":  []byte(fileLogLine(b, rec, nil)),
		"traffic":  []byte(fileLogLine(b, nil, nil)),
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseLine(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	runtime.KeepAlive(lines)
}

func TestAggregatorCountsAcceptedWarnings(t *testing.T) {
	a := NewAggregator(Filter{})
	warn := &Record{Plugin: "authkit-oauth", Code: "OAUTH_PROVIDER_UNREACHABLE", Status: 503, Outcome: "accepted"}
	refusal := &Record{Plugin: "authkit-oauth", Code: "OAUTH_PROVIDER_UNREACHABLE", Status: 503}
	for i, r := range []*Record{warn, refusal, refusal} {
		line := "2026/11/27 10:00:00 [warn] 1#0: *1 [kong] pb_rpc.lua:233 " + r.Line() + ", client: 10.0.0.1, server: kong"
		if _, ok := a.AddLine("t", int64(i+1), []byte(line)); !ok {
			t.Fatalf("line %d not taken", i+1)
		}
	}
	rep := a.Report()
	if len(rep.Codes) != 1 || rep.Codes[0].Count != 3 || rep.Codes[0].Accepted != 1 {
		t.Fatalf("report %+v", rep.Codes)
	}
	want := map[errcode.Outcome]int64{errcode.OutcomeAccepted: 1, errcode.OutcomeRefused: 2, errcode.OutcomeAnonymous: 0}
	if !maps.Equal(rep.Codes[0].Outcomes, want) {
		t.Fatalf("outcomes %v, want %v", rep.Codes[0].Outcomes, want)
	}
}

// The per-outcome counts use the catalog's vocabulary, in its order.
func TestOutcomeIndexFollowsTheCatalog(t *testing.T) {
	for i, o := range errcode.Outcomes() {
		if outcomeIndex(o) != i {
			t.Errorf("outcomeIndex(%q) = %d, want %d", o, outcomeIndex(o), i)
		}
	}
	for _, c := range []struct {
		r    Record
		want errcode.Outcome
	}{
		{Record{Code: "X"}, errcode.OutcomeRefused},
		{Record{Code: "X", Anonymous: "true"}, errcode.OutcomeAnonymous},
		{Record{Code: "X", Outcome: "accepted"}, errcode.OutcomeAccepted},
	} {
		if got := c.r.Decision(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
