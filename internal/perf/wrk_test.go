package perf

import (
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
