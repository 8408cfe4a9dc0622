package metrics

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric describes one metric of the suite: what the README lists and
// what the dashboard's queries may name.
type Metric struct {
	// Name is the full name (histograms: without _bucket, _sum, _count).
	Name string
	// Type is counter, gauge or histogram.
	Type string
	Help string
	// Labels are every label of its series, plugin included.
	Labels []string
}

var defined []Metric

// Catalog lists every authkit_* metric, sorted by name.
func Catalog() []Metric {
	out := slices.Clone(defined)
	slices.SortFunc(out, func(a, b Metric) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// define records a metric; process metrics get their plugin label from
// the registry wrapper (Enable), the others carry it themselves.
func define(name, typ, help string, labels []string, process bool) {
	if process {
		labels = append([]string{"plugin"}, labels...)
	}
	defined = append(defined, Metric{Name: Namespace + "_" + name, Type: typ, Help: help, Labels: slices.Clone(labels)})
}

func counterVec(name, help string, labels []string, process bool) *prometheus.CounterVec {
	define(name, "counter", help, labels, process)
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
}

func histogramVec(name, help string, buckets []float64, labels []string) *prometheus.HistogramVec {
	define(name, "histogram", help, labels, true)
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
}

func gaugeVec(name, help string, labels []string) *prometheus.GaugeVec {
	define(name, "gauge", help, labels, true)
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
}
