// Package promtest reads Prometheus metrics in tests: a scrape of a
// /metrics endpoint (a real plugin process's) or a registry, flattened
// into samples as the text exposition format has them (histograms as
// _bucket, _sum and _count), with helpers to sum by labels and to list the
// series a test must find bounded.
package promtest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one line of the exposition: a name, its labels and a value.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Samples is a scrape.
type Samples []Sample

// Scrape GETs url (a /metrics endpoint) and parses the text format.
func Scrape(t testing.TB, url string) Samples {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("promtest: scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("promtest: scrape %s: %s\n%s", url, resp.Status, b)
	}
	s, err := Parse(resp.Body)
	if err != nil {
		t.Fatalf("promtest: scrape %s: %v", url, err)
	}
	return s
}

// Parse reads the Prometheus text format.
func Parse(r io.Reader) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := Samples{}
	for _, f := range fams {
		out = append(out, flatten(f)...)
	}
	return out, nil
}

// Gather reads a registry directly.
func Gather(t testing.TB, g prometheus.Gatherer) Samples {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("promtest: gather: %v", err)
	}
	out := Samples{}
	for _, f := range fams {
		out = append(out, flatten(f)...)
	}
	return out
}

func flatten(f *dto.MetricFamily) Samples {
	var out Samples
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		with := func(k, v string) map[string]string {
			c := maps.Clone(labels)
			c[k] = v
			return c
		}
		name := f.GetName()
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			out = append(out, Sample{name, labels, m.GetCounter().GetValue()})
		case dto.MetricType_GAUGE:
			out = append(out, Sample{name, labels, m.GetGauge().GetValue()})
		case dto.MetricType_UNTYPED:
			out = append(out, Sample{name, labels, m.GetUntyped().GetValue()})
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			for _, b := range h.GetBucket() {
				out = append(out, Sample{name + "_bucket", with("le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)), float64(b.GetCumulativeCount())})
			}
			out = append(out, Sample{name + "_bucket", with("le", "+Inf"), float64(h.GetSampleCount())},
				Sample{name + "_count", labels, float64(h.GetSampleCount())},
				Sample{name + "_sum", labels, h.GetSampleSum()})
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			out = append(out, Sample{name + "_count", labels, float64(s.GetSampleCount())}, Sample{name + "_sum", labels, s.GetSampleSum()})
		}
	}
	return out
}

// Sum adds the values of the samples named name whose labels include every
// pair of match ("" matches only an empty or absent label).
func (s Samples) Sum(name string, match map[string]string) float64 {
	var sum float64
	for _, x := range s {
		if x.Name == name && matches(x.Labels, match) {
			sum += x.Value
		}
	}
	return sum
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Series returns the series (name and labels, canonical text) of every
// sample whose name starts with prefix, sorted.
func (s Samples) Series(prefix string) []string {
	var out []string
	for _, x := range s {
		if strings.HasPrefix(x.Name, prefix) {
			out = append(out, SeriesKey(x.Name, x.Labels))
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// LabelValues returns the distinct values of label over the samples whose
// name starts with prefix, sorted.
func (s Samples) LabelValues(prefix, label string) []string {
	set := map[string]bool{}
	for _, x := range s {
		if strings.HasPrefix(x.Name, prefix) {
			if v, ok := x.Labels[label]; ok {
				set[v] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// SeriesKey renders name{k="v",…} with sorted label names.
func SeriesKey(name string, labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}
