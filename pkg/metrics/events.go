package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// phases are the event names Kong sends a Go plugin (go-pdk's phase
// methods, lower-cased).
var phases = []string{"certificate", "rewrite", "access", "response", "preread", "log"}

// Phases lists the phase label values.
func Phases() []string { return append([]string(nil), phases...) }

var (
	eventRoundTrips = histogramVec("pdk_round_trips",
		"Socket round trips between Kong and the plugin process per event, by phase: the plugin's writes Kong "+
			"waits for, the answer to the event included (a warm acceptance or refusal takes 2).",
		[]float64{1, 2, 3, 4, 5, 6, 8, 12, 16}, []string{"phase"})
	eventSeconds = histogramVec("event_duration_seconds",
		"Time from Kong's event call to the plugin's answer, in the plugin process, by phase: the handler's "+
			"work plus its waits for Kong's PDK answers.",
		[]float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, []string{"phase"})
	phaseTrips   []prometheus.Observer
	phaseSeconds []prometheus.Observer
)

func resolvePhases() {
	phaseTrips = make([]prometheus.Observer, len(phases))
	phaseSeconds = make([]prometheus.Observer, len(phases))
	for i, p := range phases {
		phaseTrips[i] = eventRoundTrips.WithLabelValues(p)
		phaseSeconds[i] = eventSeconds.WithLabelValues(p)
	}
}

// clockBase anchors EventStart's monotonic readings: time.Since reads only
// the monotonic clock, about half the cost of time.Now on a VM's
// kvm-clock.
var clockBase = time.Now()

// EventStart returns when an event began, as a monotonic reading for
// Event, or 0 when metrics are off (no clock read).
func EventStart() time.Duration {
	if !on.Load() {
		return 0
	}
	return time.Since(clockBase)
}

// Event records one event of phase that began at start (EventStart) and
// took roundTrips socket round trips (pluginserver counts the writes Kong
// waited for: each PDK call or batch the plugin waited on, plus the one
// that ended the event). Phases outside Kong's list are not recorded.
func Event(phase string, start time.Duration, roundTrips int) {
	if !on.Load() || start == 0 {
		return
	}
	d := time.Since(clockBase) - start
	for i, p := range phases {
		if p == phase {
			phaseSeconds[i].Observe(d.Seconds())
			phaseTrips[i].Observe(float64(roundTrips))
			return
		}
	}
}
