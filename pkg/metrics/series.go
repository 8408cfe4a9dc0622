package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SeriesGrace is how long the decision and warning series of a route
// stay after the last instance serving it released it (Route.Release):
// long enough for Prometheus to scrape their last values at least twice
// at a 2 min interval (typical: 60 s), so a route's last decisions are
// not lost; short enough that routes created and deleted by config
// changes cannot grow the registry. If the route is served again within
// the grace, its series simply continue. The plugin server may shorten it
// for tests (pluginserver's test knob); production gets 5 min.
var SeriesGrace = 5 * time.Minute

// Release gives back a reference taken by ForRoute. When none is left,
// the route's series are deleted after SeriesGrace. A nil Route is a
// no-op.
func (r *Route) Release() {
	if r == nil {
		return
	}
	routesMu.Lock()
	defer routesMu.Unlock()
	r.refs--
	if r.refs > 0 {
		return
	}
	r.gen++
	gen := r.gen
	time.AfterFunc(SeriesGrace, func() { r.expire(gen) })
}

// expire deletes the route's series, unless it was taken again.
func (r *Route) expire(gen uint64) {
	k := [2]string{r.plugin, r.route}
	routesMu.Lock()
	defer routesMu.Unlock()
	if r.refs > 0 || r.gen != gen || routes[k] != r {
		return
	}
	delete(routes, k)
	Held(HeldRoutes, len(routes))
	l := prometheus.Labels{"plugin": r.plugin, "route_id": r.route}
	decisions.DeletePartialMatch(l)
	warnings.DeletePartialMatch(l)
}

// Routes is the number of routes holding series (tests).
func Routes() int {
	routesMu.Lock()
	defer routesMu.Unlock()
	return len(routes)
}

// held counts what the process holds across config changes, so churn
// that leaks shows as a growing line: Redis pools, compiled configs and
// routes with decision series.
var held = gaugeVec("held_objects",
	"Objects the plugin process holds for its configs, by kind: redis_pools (open Redis connection pools), "+
		"compiled_configs (compiled plugin configs, in use or in their release grace) and routes (routes with decision series).",
	[]string{"kind"})

// Kinds of authkit_held_objects.
const (
	HeldRedisPools      = "redis_pools"
	HeldCompiledConfigs = "compiled_configs"
	HeldRoutes          = "routes"
)

// HeldKinds lists the kind label's values.
func HeldKinds() []string { return []string{HeldRedisPools, HeldCompiledConfigs, HeldRoutes} }

// Held sets the number of objects of kind the process holds.
func Held(kind string, n int) {
	if on.Load() {
		held.WithLabelValues(kind).Set(float64(n))
	}
}
