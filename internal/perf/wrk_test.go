package perf

import (
	"context"
	"strings"
	"testing"
	"time"
)

const sample = `Running 4s test @ http://127.0.0.1:18000/key
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   231.50us   50.00us   1.20ms   90.00%
    Req/Sec     4.30k   100.00     4.50k    80.00%
  Latency Distribution
     50%  220.00us
     75%  240.00us
     90%  270.00us
     99%    1.40ms
  17200 requests in 4.00s, 2.80MB read
  Non-2xx or 3xx responses: 17200
Requests/sec:   4300.12
Transfer/sec:    700.00KB
`

func TestParseWrk(t *testing.T) {
	r, err := ParseWrk(sample)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Requests: 17200, RPS: 4300.12, Mean: 231500 * time.Nanosecond, P50: 220 * time.Microsecond, P99: 1400 * time.Microsecond, Non2xx3xx: 17200}
	if r != want {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
}

func TestParseWrkMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"no latency":     "Requests/sec: 10\n",
		"bad unit":       "    Latency   231.50xx   50.00us   1.20ms   90.00%\n     50%  1us\n     99%  1us\nRequests/sec: 1\n",
		"negative":       "    Latency   -1us   50.00us   1.20ms   90.00%\n     50%  1us\n     99%  1us\nRequests/sec: 1\n",
		"no percentiles": "    Latency   1us   50.00us   1.20ms   90.00%\nRequests/sec: 1\n",
		"bad rps":        "    Latency   1us 1 1 1\n     50%  1us\n     99%  1us\nRequests/sec: x\n",
	} {
		if _, err := ParseWrk(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseWrk(f *testing.F) {
	f.Add(sample)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseWrk(s)
		if err == nil && (r.Mean < 0 || r.P50 < 0 || r.P99 < 0) {
			t.Fatalf("negative duration from %q", s)
		}
	})
}

func TestMeasureInterleavesAndSubtractsTheBaseline(t *testing.T) {
	means := map[string][]time.Duration{
		"/none": {100, 200, 100},
		"/a":    {150, 260, 400},
	}
	var order []string
	calls := map[string]int{}
	run := func(_ context.Context, l Load) (Result, error) {
		path := strings.TrimPrefix(l.URL, "http://k")
		order = append(order, path)
		m := means[path][calls[path]]
		calls[path]++
		return Result{Requests: 10, Mean: m * time.Microsecond, P50: m * time.Microsecond}, nil
	}
	routes := []Route{{Name: "none", Path: "/none", Status: 200}, {Name: "a", Path: "/a", Status: 200}}
	s, err := Measure(context.Background(), run, "http://k", routes, 1, 3, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, " ") != "/none /a /none /a /none /a" {
		t.Fatalf("order %v", order)
	}
	// rounds: +50, +60, +300 → median 60, min 50, max 300
	if got := AddedOver(s[1], s[0], P50); got != (Added{60 * time.Microsecond, 50 * time.Microsecond, 300 * time.Microsecond}) {
		t.Fatalf("added %+v", got)
	}
}

func TestMeasureChecksStatuses(t *testing.T) {
	run := func(_ context.Context, l Load) (Result, error) { return Result{Requests: 10, Non2xx3xx: 3}, nil }
	if _, err := Measure(context.Background(), run, "", []Route{{Name: "ok", Status: 200}}, 1, 1, time.Second); err == nil {
		t.Fatal("3 refusals on a 2xx route were accepted")
	}
	if _, err := Measure(context.Background(), run, "", []Route{{Name: "refusal", Status: 401}}, 1, 1, time.Second); err == nil {
		t.Fatal("7 successes on a refusal route were accepted")
	}
}

func TestParseStraceSummary(t *testing.T) {
	out := `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 55.10    0.001200           2       600           write
 40.00    0.000900           1       900       300 read
  4.90    0.000100           1       100           recvfrom
------ ----------- ----------- --------- --------- ----------------
100.00    0.002200           1      1600       300 total
`
	got, err := ParseStraceSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if got["write"] != 600 || got["read"] != 900 || got["recvfrom"] != 100 || len(got) != 3 {
		t.Fatalf("%v", got)
	}
	if _, err := ParseStraceSummary("strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted"); err == nil {
		t.Fatal("no table, no error")
	}
}

func TestReportMarkdown(t *testing.T) {
	mk := func(name, group string, means ...time.Duration) Sample {
		s := Sample{Route: Route{Name: name, Group: group}}
		for _, m := range means {
			s.Rounds = append(s.Rounds, Result{Mean: m, P50: m, P99: 2 * m, RPS: float64(time.Second / m)})
		}
		return s
	}
	lat := []Sample{
		mk("no plugin", "baseline", 100*time.Microsecond, 100*time.Microsecond, 100*time.Microsecond),
		mk("Go floor", "go", 300*time.Microsecond, 300*time.Microsecond, 300*time.Microsecond),
		mk("Lua key-auth", "lua", 120*time.Microsecond, 120*time.Microsecond, 120*time.Microsecond),
		mk("authkit-key success", "authkit", 310*time.Microsecond, 320*time.Microsecond, 300*time.Microsecond),
		mk("authkit-key refusal", "authkit", 400*time.Microsecond, 400*time.Microsecond, 400*time.Microsecond),
	}
	r := Report{Latency: lat, Throughput: lat, Floor: "Go floor", Lua: "Lua key-auth", Goal: 1.15, Conns: 16, Rounds: 3, Duration: time.Second}
	md := r.Markdown()
	for _, want := range []string{
		"| authkit-key success | +210 µs (200 µs … 220 µs) | 1.05× | 10.5× | +210 µs |",
		"| authkit-key refusal | +300 µs (300 µs … 300 µs) | 1.50× | 15.0× | +300 µs |",
		"**missed**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
