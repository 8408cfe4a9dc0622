package perf

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Route is one path measured through Kong.
type Route struct {
	// Name is the row label; Path the proxy path; Headers what wrk sends.
	Name, Path string
	Headers    []string
	// Status is the answer every request must get (checked by the caller
	// before measuring; wrk's non-2xx count is checked for 2xx routes).
	Status int
	// Group orders the report: "baseline", "lua", "go", "authkit".
	Group string
}

// Runner runs one load (Wrk, or a fake in tests).
type Runner func(ctx context.Context, l Load) (Result, error)

// Sample is every round's result of one route.
type Sample struct {
	Route  Route
	Rounds []Result
}

// Measure runs every route for dur with conns connections, rounds times,
// interleaved (route 1, 2, …, n, then again), so that a slow phase of a
// noisy machine hits every route alike. baseline is the route every added
// latency is measured against (it is run in each round too).
func Measure(ctx context.Context, run Runner, base string, routes []Route, conns, rounds int, dur time.Duration) ([]Sample, error) {
	samples := make([]Sample, len(routes))
	for i, r := range routes {
		samples[i].Route = r
	}
	for round := 0; round < rounds; round++ {
		for i, r := range routes {
			res, err := run(ctx, Load{URL: base + r.Path, Connections: conns, Duration: dur, Headers: r.Headers})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Name, err)
			}
			if r.Status < 300 && res.Non2xx3xx > 0 {
				return nil, fmt.Errorf("%s: %d of %d answers were not 2xx", r.Name, res.Non2xx3xx, res.Requests)
			}
			if r.Status >= 300 && res.Non2xx3xx != res.Requests {
				return nil, fmt.Errorf("%s: %d of %d answers were refusals, want all", r.Name, res.Non2xx3xx, res.Requests)
			}
			samples[i].Rounds = append(samples[i].Rounds, res)
		}
	}
	return samples, nil
}

// Added is a route's added latency over the baseline: per round, its
// latency minus the baseline's in the same round; then the median over
// rounds, with the smallest and largest round.
type Added struct {
	Median, Min, Max time.Duration
}

// P50 and Mean pick the latency AddedOver compares. The median request
// is what a loaded machine disturbs least: a few requests delayed by
// another process move the mean, not the median.
func P50(r Result) time.Duration  { return r.P50 }
func Mean(r Result) time.Duration { return r.Mean }

// AddedOver computes s's added latency over base, by the field lat.
func AddedOver(s, base Sample, lat func(Result) time.Duration) Added {
	var d []time.Duration
	for i := range s.Rounds {
		if i < len(base.Rounds) {
			d = append(d, lat(s.Rounds[i])-lat(base.Rounds[i]))
		}
	}
	if len(d) == 0 {
		return Added{}
	}
	slices.Sort(d)
	return Added{Median: median(d), Min: d[0], Max: d[len(d)-1]}
}

// Median returns the median of one field over the rounds.
func (s Sample) Median(field func(Result) float64) float64 {
	v := make([]float64, len(s.Rounds))
	for i, r := range s.Rounds {
		v[i] = field(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func median(d []time.Duration) time.Duration {
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}
