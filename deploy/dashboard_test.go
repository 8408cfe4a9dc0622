package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// dashboardQuery is one PromQL expression of the dashboard and where it is.
type dashboardQuery struct{ where, expr string }

// dashboardQueries returns every query of a Grafana dashboard: panel
// targets (rows' nested panels too) and query variables.
func dashboardQueries(data []byte) ([]dashboardQuery, error) {
	var d struct {
		Title      string            `json:"title"`
		UID        string            `json:"uid"`
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		return nil, fmt.Errorf("no title, uid or panels")
	}
	var out []dashboardQuery
	type panel struct {
		Title   string            `json:"title"`
		Type    string            `json:"type"`
		Panels  []json.RawMessage `json:"panels"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	}
	var walk func(raw []json.RawMessage) error
	walk = func(raw []json.RawMessage) error {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				return err
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				return fmt.Errorf("panel %q has no query", p.Title)
			}
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("panel %q target %s has no expr", p.Title, t.RefID)
				}
				out = append(out, dashboardQuery{fmt.Sprintf("panel %q %s", p.Title, t.RefID), t.Expr})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		// label_values(<selector>, <label>): the selector is PromQL, the
		// label must be one of its metric's.
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			return nil, fmt.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
		}
		out = append(out, dashboardQuery{"variable " + v.Name, fmt.Sprintf("count by (%s) (%s)", m[2], m[1])})
	}
	return out, nil
}

// dashboardProblems checks every query against the metrics the code
// registers (pkg/metrics.Catalog): each metric it names exists (a
// histogram through its _bucket, _sum or _count series), each label it
// matches or groups by is one of those metrics' labels.
func dashboardProblems(path string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	queries, err := dashboardQueries(data)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	known := map[string]metrics.Metric{}
	for _, m := range metrics.Catalog() {
		if m.Type == "histogram" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				mm := m
				if suffix == "_bucket" {
					mm.Labels = append(slices.Clone(m.Labels), "le")
				}
				known[m.Name+suffix] = mm
			}
			continue
		}
		known[m.Name] = m
	}
	for _, q := range queries {
		refs, err := parsePromQL(q.expr)
		if err != nil {
			add("%s: %v", q.where, err)
			continue
		}
		if len(refs.metrics) == 0 {
			add("%s: names no metric: %s", q.where, q.expr)
		}
		var labels []string
		for _, name := range refs.metrics {
			m, ok := known[name]
			if !ok {
				add("%s: metric %s is not registered by pkg/metrics", q.where, name)
				continue
			}
			labels = append(labels, m.Labels...)
			for _, l := range refs.matchers[name] {
				if !slices.Contains(m.Labels, l) && l != "le" {
					add("%s: %s has no label %q", q.where, name, l)
				}
			}
		}
		for _, l := range refs.grouping {
			if !slices.Contains(labels, l) {
				add("%s: groups by %q, which none of %v has", q.where, l, refs.metrics)
			}
		}
	}
	return problems
}

func dashboardPath(t *testing.T) string {
	return filepath.Join(kongwire.ModuleRoot(t), "deploy", "grafana", "authkit-dashboard.json")
}

func TestDashboard(t *testing.T) {
	path := dashboardPath(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	queries, err := dashboardQueries(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d queries", len(queries))
	reportProblems(t, "deploy/grafana/authkit-dashboard.json", dashboardProblems(path))
	// What the issue asks the dashboard to show.
	all := ""
	for _, q := range queries {
		all += q.expr + "\n"
	}
	for what, want := range map[string]string{
		"refusals by code":   `sum by (code) (rate(authkit_decisions_total{outcome="refused"`,
		"top routes":         `topk(10, sum by (route_id`,
		"provider latency":   `authkit_provider_request_duration_seconds_bucket`,
		"provider errors":    `authkit_provider_request_duration_seconds_count{code!=""`,
		"cache hit ratio":    `authkit_cache_hits_total`,
		"cache miss ratio":   `authkit_cache_misses_total`,
		"PDK round trips":    `authkit_pdk_round_trips`,
		"event latency":      `authkit_event_duration_seconds_bucket`,
		"anonymous outcomes": `outcome="anonymous"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the dashboard shows no %s (no query with %q)", what, want)
		}
	}
}

func TestDashboardChecksCanFail(t *testing.T) {
	path := dashboardPath(t)
	for _, c := range []struct{ name, old, new, want string }{
		{"unknown metric", "authkit_warnings_total", "authkit_warning_total", "authkit_warning_total is not registered"},
		{"unknown label", `sum by (cache) (rate(authkit_cache_hits_total{plugin`, `sum by (cache) (rate(authkit_cache_hits_total{plugn`, `has no label "plugn"`},
		{"unknown grouping", `sum by (endpoint, code)`, `sum by (endpoint, status)`, `groups by "status"`},
		{"histogram without suffix", "authkit_event_duration_seconds_bucket", "authkit_event_duration_seconds", "authkit_event_duration_seconds is not registered"},
		{"broken PromQL", `topk(10, sum by (route_id`, `topk(10, sum by route_id (`, "want ( after a grouping keyword"},
		{"variable", `label_values(authkit_plugin_info, plugin)`, `label_values(authkit_plugin_info, plugins)`, `groups by "plugins"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, dashboardProblems(brokenCopy(t, path, c.old, c.new)), c.want)
		})
	}
}
