package metrics_test

import (
	"os"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// The README's metrics section names every metric, label and fixed label
// value the code has.
func TestReadmeListsEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Metrics")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no Metrics section")
	}
	section := readme[start : start+1+end]
	var want []string
	for _, m := range metrics.Catalog() {
		want = append(want, "`"+m.Name+"`")
		for _, l := range m.Labels {
			want = append(want, "`"+l+"`")
		}
	}
	for _, c := range metrics.Caches() {
		want = append(want, "`"+c.String()+"`")
	}
	for _, k := range metrics.HeldKinds() {
		want = append(want, "`"+k+"`")
	}
	for _, e := range metrics.Endpoints() {
		want = append(want, "`"+string(e)+"`")
	}
	for _, o := range errcode.Outcomes() {
		want = append(want, "`"+string(o)+"`")
	}
	want = append(want, "-metrics-listen", metrics.EnvListen, "KONG_NGINX_MAIN_ENV", "/metrics")
	for _, w := range want {
		if !strings.Contains(section, w) {
			t.Errorf("the README's Metrics section does not mention %s", w)
		}
	}
}
