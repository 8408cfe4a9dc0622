package deploy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// composeService is the part of a compose service the checks read.
type composeService struct {
	Image string `json:"image"`
	Build *struct {
		Context    string `json:"context"`
		Dockerfile string `json:"dockerfile"`
	} `json:"build"`
	NetworkMode string          `json:"network_mode"`
	Ports       []any           `json:"ports"`
	Volumes     []any           `json:"volumes"`
	Environment any             `json:"environment"`
	Command     any             `json:"command"`
	Entrypoint  any             `json:"entrypoint"`
	DependsOn   json.RawMessage `json:"depends_on"`
	Healthcheck *struct {
		Test any `json:"test"`
	} `json:"healthcheck"`
}

// env returns the service's environment, from the map or the list form.
func (s composeService) env() map[string]string {
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case map[string]any:
		for k, v := range e {
			out[k] = fmt.Sprint(v)
		}
	case []any:
		for _, item := range e {
			k, v, _ := strings.Cut(fmt.Sprint(item), "=")
			out[k] = v
		}
	}
	return out
}

// words flattens a command or entrypoint (string or list) into one string.
func words(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case []any:
		var parts []string
		for _, p := range c {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// dependsOn returns the service's dependencies and their conditions
// ("" for the short list form).
func (s composeService) dependsOn() map[string]string {
	out := map[string]string{}
	var list []string
	if json.Unmarshal(s.DependsOn, &list) == nil {
		for _, d := range list {
			out[d] = ""
		}
		return out
	}
	var long map[string]struct {
		Condition string `json:"condition"`
	}
	_ = json.Unmarshal(s.DependsOn, &long)
	for d, c := range long {
		out[d] = c.Condition
	}
	return out
}

// oauthIssuers returns the issuers of every authkit-oauth entry in kong.yaml
// (none until that route lands).
func oauthIssuers(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, e := range kongPlugins(t, filepath.Join(root, "kong.yaml")) {
		if iss, ok := e.Config["issuer"].(string); ok && e.Name == "authkit-oauth" {
			out = append(out, iss)
		}
	}
	return out
}

var imageTagRE = regexp.MustCompile(`^[^:@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]*)$`)

// composeProblems checks the compose file at path. repoRoot is the
// repository the file's relative paths must lead to; declarativeConfig is
// the Dockerfile's KONG_DECLARATIVE_CONFIG; issuers are the authkit-oauth
// issuers of kong.yaml.
func composeProblems(path, repoRoot, declarativeConfig string, issuers []string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var doc struct {
		Services map[string]composeService `json:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	// Relative paths in a compose file are relative to the file's directory;
	// a copy elsewhere is resolved as if it were in deploy/.
	base := filepath.Join(repoRoot, "deploy")
	resolve := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(base, p)
	}

	kong, ok := doc.Services["kong"]
	if !ok {
		return []string{"no `kong` service"}
	}
	// kong is the repository's Dockerfile.
	if kong.Build == nil {
		add("kong: no build section (want the repository's Dockerfile)")
	} else {
		df := kong.Build.Dockerfile
		if df == "" {
			df = "Dockerfile"
		}
		if ctx := resolve(kong.Build.Context); ctx != filepath.Clean(repoRoot) {
			add("kong: build context %q is not the repository root", kong.Build.Context)
		} else if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
			add("kong: build dockerfile %q: %v", df, err)
		}
	}
	// kong runs the repository's kong.yaml at the configured path.
	cfg := declarativeConfig
	if v, ok := kong.env()["KONG_DECLARATIVE_CONFIG"]; ok {
		cfg = v
	}
	if cfg != declarativeConfig {
		add("kong: KONG_DECLARATIVE_CONFIG=%q differs from the image's %q", cfg, declarativeConfig)
	}
	mounted := false
	for _, v := range kong.Volumes {
		src, dst, _ := strings.Cut(fmt.Sprint(v), ":")
		dst, _, _ = strings.Cut(dst, ":")
		if dst == cfg && resolve(src) == filepath.Join(repoRoot, "kong.yaml") {
			mounted = true
		}
	}
	if !mounted {
		add("kong: the repository's kong.yaml is not mounted at %s", cfg)
	}
	if db, ok := kong.env()["KONG_DATABASE"]; ok && db != "off" {
		add("kong: KONG_DATABASE=%q, want off", db)
	}

	// Published ports: loopback only; the proxy must be published by kong
	// or by the service whose network namespace kong shares.
	published := map[string][]string{}
	for name, s := range doc.Services {
		for _, p := range s.Ports {
			var hostIP, target string
			switch v := p.(type) {
			case map[string]any:
				hostIP, target = fmt.Sprint(v["host_ip"]), fmt.Sprint(v["target"])
			default:
				parts := strings.Split(fmt.Sprint(v), ":")
				if len(parts) == 3 {
					hostIP = parts[0]
				}
				target = parts[len(parts)-1]
			}
			if hostIP != "127.0.0.1" {
				add("%s: port %v is not bound to 127.0.0.1", name, p)
			}
			published[name] = append(published[name], strings.TrimSuffix(target, "/tcp"))
		}
	}
	kongNet := "kong"
	if shared, ok := strings.CutPrefix(kong.NetworkMode, "service:"); ok {
		kongNet = shared
		if len(kong.Ports) > 0 {
			add("kong: ports cannot be published on a service with network_mode %q", kong.NetworkMode)
		}
		if _, ok := kong.dependsOn()[shared]; !ok {
			add("kong: shares %s's network namespace but does not depend on it", shared)
		}
	}
	for _, port := range []string{"8000", "8001"} {
		found := false
		for _, p := range published[kongNet] {
			found = found || p == port
		}
		if !found {
			add("kong's port %s is not published (on %s)", port, kongNet)
		}
	}

	// Every image pinned; Hydra exactly v2.3.0.
	for name, s := range doc.Services {
		if s.Image == "" && s.Build == nil {
			add("%s: neither image nor build", name)
		}
		if s.Build == nil && (!imageTagRE.MatchString(s.Image) || strings.HasSuffix(s.Image, ":latest")) {
			add("%s: image %q is not pinned to a tag", name, s.Image)
		}
	}
	hydra, ok := doc.Services["hydra"]
	if !ok {
		return append(problems, "no `hydra` service")
	}
	henv := hydra.env()
	if hydra.Image != "oryd/hydra:v2.3.0" {
		add("hydra: image %q, want oryd/hydra:v2.3.0", hydra.Image)
	}
	if henv["STRATEGIES_ACCESS_TOKEN"] != "jwt" {
		add("hydra: STRATEGIES_ACCESS_TOKEN=%q, want jwt (authkit-oauth verifies JWTs locally)", henv["STRATEGIES_ACCESS_TOKEN"])
	}
	if henv["STRATEGIES_JWT_SCOPE_CLAIM"] != "both" {
		add("hydra: STRATEGIES_JWT_SCOPE_CLAIM=%q, want both", henv["STRATEGIES_JWT_SCOPE_CLAIM"])
	}
	issuer := henv["URLS_SELF_ISSUER"]
	if issuer != "http://127.0.0.1:4444" {
		add("hydra: URLS_SELF_ISSUER=%q, want http://127.0.0.1:4444", issuer)
	}
	if cmd := words(hydra.Command); !strings.Contains(cmd, "serve all") || !strings.Contains(cmd, "--dev") {
		add("hydra: command %q, want `serve all --dev` (plain-http issuer)", cmd)
	}
	// The issuer must be reachable from kong under the very URL tokens carry.
	for _, iss := range append(issuers, issuer) {
		u, err := url.Parse(iss)
		if err != nil {
			add("issuer %q: %v", iss, err)
			continue
		}
		if iss != issuer {
			add("kong.yaml's authkit-oauth issuer %q differs from Hydra's URLS_SELF_ISSUER %q: every token would fail OAUTH_ISSUER_MISMATCH", iss, issuer)
		}
		if h := u.Hostname(); (h == "127.0.0.1" || h == "localhost") && kong.NetworkMode != "service:hydra" {
			add("issuer %s is a loopback URL, but kong does not share hydra's network namespace (network_mode: service:hydra): the gateway could not fetch discovery or JWKS", iss)
		}
	}
	// SQLite on a volume, migrated before Hydra starts.
	dsn := henv["DSN"]
	if !strings.HasPrefix(dsn, "sqlite://") {
		add("hydra: DSN %q, want a SQLite file", dsn)
	}
	if len(hydra.Volumes) == 0 {
		add("hydra: the SQLite database is not on a volume")
	}
	migrate, ok := doc.Services["hydra-migrate"]
	switch {
	case !ok:
		add("no `hydra-migrate` service")
	case !strings.Contains(words(migrate.Command), "migrate sql up") || !strings.Contains(words(migrate.Command), "--yes"):
		add("hydra-migrate: command %q, want `migrate sql up -e --yes`", words(migrate.Command))
	case migrate.env()["DSN"] != dsn:
		add("hydra-migrate: DSN %q differs from hydra's %q", migrate.env()["DSN"], dsn)
	case hydra.dependsOn()["hydra-migrate"] != "service_completed_successfully":
		add("hydra: does not wait for hydra-migrate to complete")
	}
	if hydra.Healthcheck == nil {
		add("hydra: no healthcheck")
	}

	// The setup job registers the demo client through the admin API.
	setup, ok := doc.Services["hydra-setup"]
	if !ok {
		return append(problems, "no `hydra-setup` service")
	}
	script := words(setup.Entrypoint) + " " + words(setup.Command)
	if !strings.Contains(script, "/health/ready") {
		add("hydra-setup: does not wait for Hydra's /health/ready")
	}
	if !strings.Contains(script, "/admin/clients") {
		add("hydra-setup: does not POST to Hydra's /admin/clients")
	}
	m := regexp.MustCompile(`-d '(\{[^']*\})'`).FindStringSubmatch(script)
	if m == nil {
		return append(problems, "hydra-setup: no client JSON (-d '{...}')")
	}
	var client struct {
		ID         string   `json:"client_id"`
		Secret     string   `json:"client_secret"`
		Grants     []string `json:"grant_types"`
		Scope      string   `json:"scope"`
		Audience   []string `json:"audience"`
		AuthMethod string   `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal([]byte(m[1]), &client); err != nil {
		return append(problems, fmt.Sprintf("hydra-setup: client JSON: %v", err))
	}
	if client.ID != "demo-client" || client.Secret != "demo-secret" {
		add("hydra-setup: registers %q/%q, want demo-client/demo-secret", client.ID, client.Secret)
	}
	if !sameSet(client.Grants, []string{"client_credentials"}) {
		add("hydra-setup: grant_types %v, want [client_credentials]", client.Grants)
	}
	if !sameSet(strings.Fields(client.Scope), []string{"read", "write"}) {
		add("hydra-setup: scope %q, want \"read write\"", client.Scope)
	}
	if !sameSet(client.Audience, []string{"https://api.example.test"}) {
		add("hydra-setup: audience %v, want [https://api.example.test]", client.Audience)
	}
	if client.AuthMethod != "client_secret_basic" {
		add("hydra-setup: token_endpoint_auth_method %q, want client_secret_basic", client.AuthMethod)
	}
	if setup.dependsOn()["hydra"] == "" {
		add("hydra-setup: does not depend on hydra")
	}
	return problems
}

func TestCompose(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	issuers := oauthIssuers(t, root)
	if len(issuers) == 0 {
		t.Log("kong.yaml has no authkit-oauth issuer yet; checking against Hydra's URLS_SELF_ISSUER only")
	}
	reportProblems(t, "deploy/compose.yaml", composeProblems(filepath.Join(root, "deploy", "compose.yaml"), root, dockerfileEnv(t)["KONG_DECLARATIVE_CONFIG"], issuers))
}

func TestComposeChecksCanFail(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	path := filepath.Join(root, "deploy", "compose.yaml")
	cfg := dockerfileEnv(t)["KONG_DECLARATIVE_CONFIG"]
	cases := []struct{ name, old, new, want string }{
		{"port on all interfaces", `"127.0.0.1:8000:8000"`, `"8000:8000"`, "is not bound to 127.0.0.1"},
		{"no shared namespace", `network_mode: "service:hydra"`, `network_mode: bridge`, "loopback URL"},
		{"hydra unpinned", "image: oryd/hydra:v2.3.0\n    # --dev", "image: oryd/hydra:latest\n    # --dev", "want oryd/hydra:v2.3.0"},
		{"opaque tokens", "STRATEGIES_ACCESS_TOKEN: jwt", "STRATEGIES_ACCESS_TOKEN: opaque", "STRATEGIES_ACCESS_TOKEN"},
		{"other issuer", "URLS_SELF_ISSUER: http://127.0.0.1:4444", "URLS_SELF_ISSUER: http://hydra:4444", "URLS_SELF_ISSUER"},
		{"wrong build", "context: ..", "context: .", "build context"},
		{"kong.yaml not mounted", "../kong.yaml:/kong/kong.yaml:ro", "../other.yaml:/kong/kong.yaml:ro", "kong.yaml is not mounted"},
		{"client secret", `"client_secret":"demo-secret"`, `"client_secret":"other"`, "want demo-client/demo-secret"},
		{"scope", `"scope":"read write"`, `"scope":"read"`, "hydra-setup: scope"},
		{"no migration", `command: ["migrate", "sql", "up", "-e", "--yes"]`, `command: ["version"]`, "migrate sql up"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, composeProblems(brokenCopy(t, path, c.old, c.new), root, cfg, nil), c.want)
		})
	}
	t.Run("kong.yaml issuer differs", func(t *testing.T) {
		wantProblem(t, composeProblems(path, root, cfg, []string{"http://hydra:4444"}), "OAUTH_ISSUER_MISMATCH")
	})
}
