package metrics

import (
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric of the suite.
const Namespace = "authkit"

var (
	// on is read by every recording function first.
	on atomic.Bool
	// registry holds this process's metrics; Enable fills it.
	registry   = prometheus.NewRegistry()
	enableOnce sync.Once
)

// Enabled reports whether metrics are being recorded.
func Enabled() bool { return on.Load() }

// Enable registers the metrics and starts recording. plugin (the plugin
// this process serves, as Kong names it) labels the process-level series
// (provider calls, caches, PDK events) as plugin="…", so that one
// Prometheus job can scrape every plugin process; version goes into
// authkit_plugin_info. Only the first call registers (its plugin and
// version stay); every call turns recording on again after Disable.
func Enable(plugin, version string) {
	defer on.Store(true)
	enableOnce.Do(func() {
		registry.MustRegister(
			// go_gc_heap_live_bytes (the heap the last GC found live)
			// besides the default set: a leak shows in it without a
			// forced GC, where heap_alloc swings with the GC cycle.
			collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
				collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			decisions, warnings,
		)
		proc := prometheus.WrapRegistererWith(prometheus.Labels{"plugin": plugin}, registry)
		proc.MustRegister(pluginInfo, providerSeconds, cacheHits, cacheMisses, eventRoundTrips, eventSeconds, held)
		pluginInfo.WithLabelValues(version).Set(1)
		resolveCaches()
		resolvePhases()
	})
}

// Disable stops recording (the registered series stay as they are): for a
// process whose listener could not start, so it pays nothing for numbers
// no one can read.
func Disable() { on.Store(false) }

// Gatherer is the registry, for tests and for the handler.
func Gatherer() prometheus.Gatherer { return registry }

var pluginInfo = gaugeVec("plugin_info", "Always 1: the plugin this process serves (plugin label) and its version.", []string{"version"})
