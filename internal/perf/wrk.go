// Package perf measures authkit in a real Kong: it drives wrk against
// Kong's proxy and reads back latency and throughput. The gateway itself
// is started by the e2e suite (internal/realkong); the measurement and the
// report live here.
package perf

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Load is one wrk run.
type Load struct {
	URL         string
	Connections int // also the thread count, capped at 2
	Duration    time.Duration
	Headers     []string // "Name: value"
}

// Result is what wrk reported.
type Result struct {
	Requests   int
	RPS        float64
	Mean       time.Duration
	P50, P99   time.Duration
	Non2xx3xx  int
	SocketErrs int
}

// Wrk runs wrk (Debian package wrk) for one load.
func Wrk(ctx context.Context, l Load) (Result, error) {
	threads := min(l.Connections, 2)
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(l.Connections),
		"-d" + strconv.Itoa(int(l.Duration.Seconds())) + "s", "--latency", "--timeout", "5s"}
	for _, h := range l.Headers {
		args = append(args, "-H", h)
	}
	args = append(args, l.URL)
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return Result{}, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return ParseWrk(string(out))
}

// ParseWrk reads wrk's text report (wrk 4.x with --latency).
func ParseWrk(out string) (Result, error) {
	var r Result
	var haveMean, haveP50, haveP99, haveRPS bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "Latency" && !haveMean:
			d, err := parseDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("latency mean: %w", err)
			}
			r.Mean, haveMean = d, true
		case len(f) == 2 && f[0] == "50%":
			d, err := parseDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("p50: %w", err)
			}
			r.P50, haveP50 = d, true
		case len(f) == 2 && f[0] == "99%":
			d, err := parseDuration(f[1])
			if err != nil {
				return r, fmt.Errorf("p99: %w", err)
			}
			r.P99, haveP99 = d, true
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return r, fmt.Errorf("request count: %w", err)
			}
			r.Requests = n
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("requests/sec: %w", err)
			}
			r.RPS, haveRPS = v, true
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Non2xx3xx, _ = strconv.Atoi(f[len(f)-1])
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			r.SocketErrs = 1
		}
	}
	if !haveMean || !haveP50 || !haveP99 || !haveRPS {
		return r, errors.New("not a wrk --latency report")
	}
	return r, nil
}

// parseDuration reads wrk's "231.00us", "1.20ms", "2.00s".
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(f * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("bad duration %q", s)
}
