package pluginserver

import (
	"log"
	"os"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// EnvTestLifetimes is a test knob, not a setting: a Go duration
// ("200ms") that replaces IdleTimeout, ReleaseGrace and
// metrics.SeriesGrace in a plugin process, so that the churn tests through
// the plugin binaries (and in real Kong) see configs, pools and series
// released within seconds. Production processes never set it and get the
// documented defaults (15 min, 1 min, 5 min). Read once, in Start, before
// anything is served.
const EnvTestLifetimes = "AUTHKIT_TEST_LIFETIMES"

// applyTestLifetimes applies EnvTestLifetimes, saying so on stderr.
func applyTestLifetimes() {
	v := os.Getenv(EnvTestLifetimes)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		log.Printf("%s=%q is not a positive duration: ignored", EnvTestLifetimes, v)
		return
	}
	IdleTimeout, ReleaseGrace, metrics.SeriesGrace = d, d, d
	log.Printf("TEST KNOB %s=%s: idle timeout, release grace and series grace are %s (production: %s, %s, %s)",
		EnvTestLifetimes, v, d, 15*time.Minute, time.Minute, 5*time.Minute)
}
