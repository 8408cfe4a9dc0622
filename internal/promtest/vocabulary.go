package promtest

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// CheckVocabulary fails the test for every label value of an authkit_*
// series that is not in the suite's fixed vocabulary: plugins and routes
// (what Kong's configuration named), outcomes, catalog codes, caches,
// endpoints, phases, held-object kinds, histogram bounds and the plugin version. A value a
// client sent can only get there by being one of these.
func CheckVocabulary(t testing.TB, s Samples, plugins, routes []string) {
	t.Helper()
	allowed := map[string]func(string) bool{
		"plugin":   func(v string) bool { return slices.Contains(plugins, v) },
		"route_id": func(v string) bool { return v == "" || slices.Contains(routes, v) },
		"outcome": func(v string) bool {
			return slices.Contains(errcode.Outcomes(), errcode.Outcome(v))
		},
		"code": func(v string) bool {
			_, ok := errcode.Lookup(errcode.Code(v))
			return v == "" || ok
		},
		"cache": func(v string) bool {
			for _, c := range metrics.Caches() {
				if c.String() == v {
					return true
				}
			}
			return false
		},
		"endpoint": func(v string) bool {
			return slices.Contains(metrics.Endpoints(), metrics.Endpoint(v))
		},
		"phase": func(v string) bool { return slices.Contains(metrics.Phases(), v) },
		"kind":  func(v string) bool { return slices.Contains(metrics.HeldKinds(), v) },
		"le": func(v string) bool {
			_, err := strconv.ParseFloat(v, 64)
			return err == nil || v == "+Inf"
		},
		"version": func(v string) bool {
			parts := strings.Split(v, ".")
			for _, p := range parts {
				if _, err := strconv.Atoi(p); err != nil {
					return false
				}
			}
			return len(parts) == 3
		},
	}
	bad := 0
	for _, x := range s {
		if !strings.HasPrefix(x.Name, metrics.Namespace+"_") {
			continue
		}
		for k, v := range x.Labels {
			ok, known := allowed[k]
			if !known || !ok(v) {
				bad++
				if bad <= 10 {
					t.Errorf("%s: label %s=%q is not in the vocabulary", x.Name, k, v)
				}
			}
		}
	}
}
