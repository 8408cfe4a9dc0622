package metrics_test

import (
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	. "github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// A route's series live while a holder has it and go SeriesGrace after the
// last Release; a route taken again within the grace keeps them.
func TestRouteSeriesGoAfterGrace(t *testing.T) {
	defer func(d time.Duration) { SeriesGrace = d }(SeriesGrace)
	SeriesGrace = 50 * time.Millisecond
	series := func() int {
		mfs, err := Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, mf := range mfs {
			if name := mf.GetName(); name == "authkit_decisions_total" || name == "authkit_warnings_total" {
				n += len(mf.GetMetric())
			}
		}
		return n
	}
	before, routes := series(), Routes()
	a := ForRoute("authkit-test", "route-gone")
	b := ForRoute("authkit-test", "route-gone")
	a.Decision(errcode.OutcomeAccepted, "")
	a.Decision(errcode.OutcomeRefused, errcode.ConfigInvalid)
	b.Warning(errcode.RedisUnavailable)
	if n := series() - before; n != 3 {
		t.Fatalf("%d new series, want 3", n)
	}
	a.Release()
	time.Sleep(3 * SeriesGrace)
	if n := series() - before; n != 3 {
		t.Fatalf("series deleted while a holder remains: %d", n)
	}
	b.Release()
	c := ForRoute("authkit-test", "route-gone") // back within the grace
	time.Sleep(3 * SeriesGrace)
	if n := series() - before; n != 3 || c != a {
		t.Fatalf("taken again within the grace: %d series, same route %v", n, c == a)
	}
	c.Release()
	deadline := time.Now().Add(10 * time.Second)
	for series() != before || Routes() != routes {
		if time.Now().After(deadline) {
			t.Fatalf("%d series and %d routes left after the grace", series()-before, Routes()-routes)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
