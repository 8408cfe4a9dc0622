package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

var (
	decisions = counterVec("decisions_total",
		"Requests an authkit plugin decided, by plugin, Kong route id, outcome (accepted, refused, anonymous) "+
			"and catalog code (empty when accepted).",
		[]string{"plugin", "route_id", "outcome", "code"}, false)
	warnings = counterVec("warnings_total",
		"Warnings about requests that were accepted (the log lines with outcome accepted: stale keys served "+
			"while the provider failed, a config that weakens a guarantee), by plugin, Kong route id and catalog code.",
		[]string{"plugin", "route_id", "code"}, false)
)

// codeIndex numbers the catalog's codes; index 0 is the empty code of an
// accepted request. It is built once and only read.
var (
	codeIndex = map[errcode.Code]int{}
	codeNames = []string{""}
)

func init() {
	for _, c := range errcode.Codes() {
		codeIndex[c] = len(codeNames)
		codeNames = append(codeNames, string(c))
	}
}

// index is c's position in codeNames; a code outside the catalog counts as
// INTERNAL_ERROR, as errcode.Lookup treats it.
func index(c errcode.Code) int {
	if c == "" {
		return 0
	}
	if i, ok := codeIndex[c]; ok {
		return i
	}
	return codeIndex[errcode.InternalError]
}

func outcomeIndex(o errcode.Outcome) (int, bool) {
	switch o {
	case errcode.OutcomeAccepted:
		return 0, true
	case errcode.OutcomeRefused:
		return 1, true
	case errcode.OutcomeAnonymous:
		return 2, true
	}
	return 0, false
}

// Route records the decisions of one plugin on one Kong route. Its
// counters are resolved on first use and kept, so a decision costs an
// index and an atomic add. Get one per plugin instance (ForRoute), keep
// it while the instance lives and Release it when the instance goes: the
// plugin name and route id come from Kong's configuration.
type Route struct {
	plugin, route string
	decided       [3][]atomic.Pointer[prometheus.Counter]
	warned        []atomic.Pointer[prometheus.Counter]

	// refs counts the holders; gen numbers the grace periods, so that
	// only the latest one's timer deletes. Guarded by routesMu.
	refs int
	gen  uint64
}

var (
	routesMu sync.Mutex
	routes   = map[[2]string]*Route{}
)

// ForRoute returns the Route of plugin on routeID ("" for a plugin
// configured on a service or globally) and takes a reference on it.
// Routes are shared process-wide.
func ForRoute(plugin, routeID string) *Route {
	k := [2]string{plugin, routeID}
	routesMu.Lock()
	defer routesMu.Unlock()
	r, ok := routes[k]
	if !ok {
		r = &Route{plugin: plugin, route: routeID, warned: make([]atomic.Pointer[prometheus.Counter], len(codeNames))}
		for i := range r.decided {
			r.decided[i] = make([]atomic.Pointer[prometheus.Counter], len(codeNames))
		}
		routes[k] = r
		Held(HeldRoutes, len(routes))
	}
	r.refs++
	return r
}

// Decision counts one decided request. code is ignored (empty) for an
// accepted request.
func (r *Route) Decision(o errcode.Outcome, code errcode.Code) {
	if !on.Load() || r == nil {
		return
	}
	oi, ok := outcomeIndex(o)
	if !ok {
		return
	}
	ci := 0
	if o != errcode.OutcomeAccepted {
		ci = index(code)
	}
	p := &r.decided[oi][ci]
	c := p.Load()
	if c == nil {
		v := decisions.WithLabelValues(r.plugin, r.route, string(o), codeNames[ci])
		c = &v
		p.Store(c)
	}
	(*c).Inc()
}

// Warning counts one warning about an accepted request.
func (r *Route) Warning(code errcode.Code) {
	if !on.Load() || r == nil {
		return
	}
	ci := index(code)
	p := &r.warned[ci]
	c := p.Load()
	if c == nil {
		v := warnings.WithLabelValues(r.plugin, r.route, codeNames[ci])
		c = &v
		p.Store(c)
	}
	(*c).Inc()
}
