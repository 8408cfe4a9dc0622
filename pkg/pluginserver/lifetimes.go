package pluginserver

import (
	"log"
	"os"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// EnvTestLifetimes is a test knob, not a setting: "GRACE,IDLE", two Go
// durations ("200ms,5s"), that replace ReleaseGrace and
// metrics.SeriesGrace (GRACE) and IdleTimeout (IDLE) in a plugin process,
// so that the churn tests through the plugin binaries (and in real Kong)
// see configs, pools and series released within seconds. Production
// processes never set it and get the documented defaults (1 min, 5 min,
// 15 min). Read once, in Start, before anything is served.
const EnvTestLifetimes = "AUTHKIT_TEST_LIFETIMES"

// applyTestLifetimes applies EnvTestLifetimes, saying so on stderr.
func applyTestLifetimes() {
	v := os.Getenv(EnvTestLifetimes)
	if v == "" {
		return
	}
	g, i, _ := strings.Cut(v, ",")
	grace, err1 := time.ParseDuration(g)
	idle, err2 := time.ParseDuration(i)
	if err1 != nil || err2 != nil || grace <= 0 || idle <= 0 {
		log.Printf("%s=%q is not GRACE,IDLE (two positive durations): ignored", EnvTestLifetimes, v)
		return
	}
	ReleaseGrace, metrics.SeriesGrace, IdleTimeout = grace, grace, idle
	log.Printf("TEST KNOB %s=%s: release and series grace %s, idle timeout %s (production: 1m0s, 5m0s, 15m0s)",
		EnvTestLifetimes, v, grace, idle)
}
