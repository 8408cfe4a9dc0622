package deploy

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// metricsListenRE finds the metrics address on a START_CMD line.
var metricsListenRE = regexp.MustCompile(`(?:^|\s)-metrics-listen[ =](\S+)`)

// startCmdMetrics checks that every plugin's START_CMD in env (under the
// key keyOf gives) is the plugin's binary with -metrics-listen at a
// distinct address, and returns the addresses by plugin. wantHost is the
// host every address must bind.
func startCmdMetrics(env map[string]string, keyOf func(plugin string) string, plugins []string, wantHost string) (map[string]string, []string) {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	addrs := map[string]string{}
	seen := map[string]string{}
	for _, p := range plugins {
		key := keyOf(p)
		cmd, ok := env[key]
		if !ok {
			add("%s is not set: %s serves no metrics", key, p)
			continue
		}
		if cmd != "/usr/local/bin/"+p && !strings.HasPrefix(cmd, "/usr/local/bin/"+p+" ") {
			add("%s=%q does not start /usr/local/bin/%s", key, cmd, p)
		}
		m := metricsListenRE.FindStringSubmatch(cmd)
		if m == nil {
			add("%s=%q has no -metrics-listen", key, cmd)
			continue
		}
		host, port, err := net.SplitHostPort(m[1])
		if err != nil || port == "" {
			add("%s: -metrics-listen %q is not host:port", key, m[1])
			continue
		}
		if host != wantHost {
			add("%s: -metrics-listen %s binds %q, want %s", key, m[1], host, wantHost)
		}
		if other, dup := seen[port]; dup {
			add("%s and %s both serve metrics on port %s", other, p, port)
		}
		seen[port] = p
		addrs[p] = m[1]
	}
	return addrs, problems
}

// composeMetricsProblems checks the compose file's metrics setup: every
// plugin's START_CMD serves metrics on its own loopback port, Prometheus
// (profile metrics) shares kong's network namespace and scrapes exactly
// those addresses, and Grafana (profile metrics) has the dashboard and a
// datasource pointing at that Prometheus.
func composeMetricsProblems(path string, plugins []string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var doc struct {
		Services map[string]struct {
			composeService
			Profiles []string `json:"profiles"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{err.Error()}
	}
	dir := filepath.Dir(path)
	kong := doc.Services["kong"]
	composeKey := func(p string) string { return "KONG_PLUGINSERVER_" + strings.ToUpper(envKey(p)) + "_START_CMD" }
	addrs, ps := startCmdMetrics(kong.env(), composeKey, plugins, "127.0.0.1")
	problems = append(problems, ps...)

	mount := func(svc string, dst string) string {
		for _, v := range doc.Services[svc].Volumes {
			parts := strings.Split(fmt.Sprint(v), ":")
			if len(parts) >= 2 && parts[1] == dst {
				return filepath.Join(dir, parts[0])
			}
		}
		return ""
	}
	for _, name := range []string{"prometheus", "grafana"} {
		s, ok := doc.Services[name]
		if !ok {
			add("no `%s` service", name)
			continue
		}
		if !slices.Contains(s.Profiles, "metrics") {
			add("%s: not under the optional profile `metrics` (profiles %v)", name, s.Profiles)
		}
		if s.NetworkMode != kong.NetworkMode || s.NetworkMode == "" {
			add("%s: network_mode %q, want kong's %q: the plugins' metrics listen on loopback in that namespace", name, s.NetworkMode, kong.NetworkMode)
		}
	}
	for _, name := range []string{"kong", "hydra", "echo", "hydra-setup"} {
		if s := doc.Services[name]; len(s.Profiles) > 0 {
			add("%s: under profiles %v: the demo without metrics must not change", name, s.Profiles)
		}
	}

	// Prometheus scrapes exactly the plugins' addresses.
	promCfg := mount("prometheus", "/etc/prometheus/prometheus.yml")
	if promCfg == "" {
		add("prometheus: no prometheus.yml mounted at /etc/prometheus/prometheus.yml")
	} else if targets, err := scrapeTargets(promCfg); err != nil {
		add("prometheus: %v", err)
	} else {
		var want []string
		for _, a := range addrs {
			want = append(want, a)
		}
		sort.Strings(want)
		if !slices.Equal(targets, want) {
			add("prometheus scrapes %v, the plugins serve metrics on %v", targets, want)
		}
	}

	// Grafana: the dashboard and a datasource on that Prometheus.
	dash := mount("grafana", "/var/lib/grafana/dashboards/authkit-dashboard.json")
	if dash == "" {
		add("grafana: deploy/grafana/authkit-dashboard.json is not mounted in /var/lib/grafana/dashboards")
	} else if filepath.Clean(dash) != filepath.Join(dir, "grafana", "authkit-dashboard.json") {
		add("grafana: mounts %s as the dashboard, want grafana/authkit-dashboard.json", dash)
	}
	prov := mount("grafana", "/etc/grafana/provisioning")
	if prov == "" {
		add("grafana: no provisioning directory mounted at /etc/grafana/provisioning")
	} else {
		var ds struct {
			Datasources []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"datasources"`
		}
		b, err := os.ReadFile(filepath.Join(prov, "datasources", "prometheus.yaml"))
		if err == nil {
			err = yaml.Unmarshal(b, &ds)
		}
		if err != nil || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://127.0.0.1:9090" {
			add("grafana: the provisioned datasource is not Prometheus at http://127.0.0.1:9090 (%v %+v)", err, ds)
		}
		b, err = os.ReadFile(filepath.Join(prov, "dashboards", "authkit.yaml"))
		if err != nil || !strings.Contains(string(b), "/var/lib/grafana/dashboards") {
			add("grafana: no dashboard provider for /var/lib/grafana/dashboards (%v)", err)
		}
	}
	return problems
}

// scrapeTargets returns the static targets of every job in a Prometheus
// configuration, sorted.
func scrapeTargets(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		ScrapeConfigs []struct {
			MetricsPath   string `json:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for _, sc := range cfg.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			return nil, fmt.Errorf("%s: metrics_path %q, the plugins serve /metrics", path, sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			out = append(out, st.Targets...)
		}
	}
	sort.Strings(out)
	return out, nil
}

func TestComposeMetrics(t *testing.T) {
	path := filepath.Join(kongwire.ModuleRoot(t), "deploy", "compose.yaml")
	reportProblems(t, "deploy/compose.yaml (metrics)", composeMetricsProblems(path, allPlugins(t)))
}

func TestComposeMetricsChecksCanFail(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	path := filepath.Join(root, "deploy", "compose.yaml")
	plugins := allPlugins(t)
	// brokenCopy puts the copy elsewhere; the checks resolve mounts next to
	// it, so copy the files it mounts too.
	withMounts := func(t *testing.T, broken string) string {
		dir := filepath.Dir(broken)
		for _, rel := range []string{"prometheus/prometheus.yml", "grafana/authkit-dashboard.json", "grafana/provisioning/datasources/prometheus.yaml", "grafana/provisioning/dashboards/authkit.yaml"} {
			b, err := os.ReadFile(filepath.Join(root, "deploy", rel))
			if err != nil {
				t.Fatal(err)
			}
			_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return broken
	}
	if p := composeMetricsProblems(withMounts(t, brokenCopy(t, path, "KONG_LOG_LEVEL: notice", "KONG_LOG_LEVEL: notice")), plugins); len(p) > 0 {
		t.Fatalf("an unbroken copy has problems: %v", p)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"no flag", "/usr/local/bin/authkit-key -metrics-listen 127.0.0.1:9543", "/usr/local/bin/authkit-key", "has no -metrics-listen"},
		{"all interfaces", "-metrics-listen 127.0.0.1:9543", "-metrics-listen 0.0.0.0:9543", `binds "0.0.0.0"`},
		{"same port twice", "-metrics-listen 127.0.0.1:9543", "-metrics-listen 127.0.0.1:9542", "both serve metrics on port 9542"},
		{"port not scraped", "-metrics-listen 127.0.0.1:9545", "-metrics-listen 127.0.0.1:9546", "prometheus scrapes"},
		{"plugin without START_CMD", "      KONG_PLUGINSERVER_AUTHKIT_OAUTH_START_CMD: /usr/local/bin/authkit-oauth -metrics-listen 127.0.0.1:9544\n", "", "AUTHKIT_OAUTH_START_CMD is not set"},
		{"prometheus not in the namespace", "    profiles: [\"metrics\"]\n    network_mode: \"service:hydra\"\n    command:", "    profiles: [\"metrics\"]\n    command:", "prometheus: network_mode"},
		{"no profile", "    image: grafana/grafana:11.6.0\n    profiles: [\"metrics\"]", "    image: grafana/grafana:11.6.0", "grafana: not under the optional profile"},
		{"dashboard not mounted", "./grafana/authkit-dashboard.json:/var/lib/grafana/dashboards/authkit-dashboard.json:ro", "./grafana/authkit-dashboard.json:/tmp/x.json:ro", "is not mounted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, composeMetricsProblems(withMounts(t, brokenCopy(t, path, c.old, c.new)), plugins), c.want)
		})
	}
	t.Run("a plugin added to plugins/ is caught", func(t *testing.T) {
		wantProblem(t, composeMetricsProblems(path, append(slices.Clone(plugins), "authkit-new")), "AUTHKIT_NEW_START_CMD is not set")
	})
}

// k8sMetricsProblems checks deploy/kubernetes: values.yaml's START_CMDs
// serve metrics on the pod network (a loopback address could not be
// scraped from another pod), one port per plugin, and
// prometheus-scrape.yml has one job per plugin on exactly those ports.
func k8sMetricsProblems(dir string, plugins []string) []string {
	data, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return []string{err.Error()}
	}
	var values helmValues
	if err := yaml.Unmarshal(data, &values); err != nil {
		return []string{err.Error()}
	}
	env := map[string]string{}
	for k, v := range values.Env {
		env[k] = fmt.Sprint(v)
	}
	key := func(p string) string { return "pluginserver_" + envKey(p) + "_start_cmd" }
	addrs, problems := startCmdMetrics(env, key, plugins, "0.0.0.0")
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	data, err = os.ReadFile(filepath.Join(dir, "prometheus-scrape.yml"))
	if err != nil {
		return append(problems, err.Error())
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName        string `json:"job_name"`
			RelabelConfigs []struct {
				TargetLabel string `json:"target_label"`
				Replacement string `json:"replacement"`
			} `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return append(problems, fmt.Sprintf("prometheus-scrape.yml: %v", err))
	}
	jobs := map[string]string{} // job -> port
	for _, sc := range cfg.ScrapeConfigs {
		for _, rc := range sc.RelabelConfigs {
			if rc.TargetLabel == "__address__" {
				_, port, _ := strings.Cut(rc.Replacement, ":")
				jobs[sc.JobName] = port
			}
		}
	}
	for _, p := range plugins {
		_, want, _ := net.SplitHostPort(addrs[p])
		if got, ok := jobs[p]; !ok {
			add("prometheus-scrape.yml: no job %s", p)
		} else if want != "" && got != want {
			add("prometheus-scrape.yml: job %s scrapes port %s, values.yaml's %s listens on %s", p, got, p, want)
		}
	}
	return problems
}

func TestKubernetesMetrics(t *testing.T) {
	dir := filepath.Join(kongwire.ModuleRoot(t), "deploy", "kubernetes")
	reportProblems(t, "deploy/kubernetes (metrics)", k8sMetricsProblems(dir, allPlugins(t)))
}

func TestKubernetesMetricsChecksCanFail(t *testing.T) {
	dir := filepath.Join(kongwire.ModuleRoot(t), "deploy", "kubernetes")
	plugins := allPlugins(t)
	for _, c := range []struct{ file, old, new, want string }{
		{"values.yaml", "-metrics-listen 0.0.0.0:9543", "-metrics-listen 127.0.0.1:9543", `binds "127.0.0.1"`},
		{"values.yaml", "/usr/local/bin/authkit-oauth -kong-prefix /kong_prefix -metrics-listen 0.0.0.0:9544", "/usr/local/bin/authkit-oauth -kong-prefix /kong_prefix", "has no -metrics-listen"},
		{"prometheus-scrape.yml", "replacement: ${1}:9545", "replacement: ${1}:9546", "job authkit-oauth-explain scrapes port 9546"},
		{"prometheus-scrape.yml", "job_name: authkit-key", "job_name: authkit-keys", "no job authkit-key"},
	} {
		t.Run(c.file+" "+c.want, func(t *testing.T) {
			broken := brokenCopy(t, filepath.Join(dir, c.file), c.old, c.new)
			other := map[string]string{"values.yaml": "prometheus-scrape.yml", "prometheus-scrape.yml": "values.yaml"}[c.file]
			b, err := os.ReadFile(filepath.Join(dir, other))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(filepath.Dir(broken), other), b, 0o644); err != nil {
				t.Fatal(err)
			}
			wantProblem(t, k8sMetricsProblems(filepath.Dir(broken), plugins), c.want)
		})
	}
}

// The Dockerfile leaves metrics off (START_CMD is the bare binary, which
// TestDockerfile pins) but says how to turn them on.
func TestDockerfileDocumentsMetrics(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(kongwire.ModuleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-metrics-listen", "AUTHKIT_METRICS_LISTEN", "KONG_NGINX_MAIN_ENV"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the Dockerfile does not mention %s", want)
		}
	}
}
