package kongwire

import (
	"strings"
	"testing"
	"time"
)

// MetricsMarker starts the line a plugin process prints once its metrics
// listener is up (pkg/pluginserver), followed by the URL it serves.
const MetricsMarker = "Serving metrics on "

// MetricsURL returns the URL of the plugin process's /metrics, read from
// its output (start it with `-metrics-listen 127.0.0.1:0` to get a free
// port without a race). It waits at most 10 s for the line.
func (s *Server) MetricsURL(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range s.ProcessOutput() {
			if _, url, ok := strings.Cut(line, MetricsMarker); ok {
				return strings.TrimSpace(url)
			}
		}
		if time.Now().After(deadline) || s.Exited() {
			t.Fatalf("kongwire: %s printed no %q line:\n%s", s.Bin, MetricsMarker, strings.Join(s.ProcessOutput(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
