// Package deploy holds the tests that keep the shipped configuration
// (kong.yaml, and later the Dockerfile, compose and Kubernetes manifests)
// consistent with the plugins as Kong will load them.
package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

type pluginEntry struct {
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
	where  string
}

// kongPlugins collects every plugin entry of a declarative config: global,
// per service, per route, per consumer.
func kongPlugins(t *testing.T, path string) []pluginEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format   string        `json:"_format_version"`
		Plugins  []pluginEntry `json:"plugins"`
		Services []struct {
			Name    string        `json:"name"`
			Plugins []pluginEntry `json:"plugins"`
			Routes  []struct {
				Name    string        `json:"name"`
				Plugins []pluginEntry `json:"plugins"`
			} `json:"routes"`
		} `json:"services"`
		Consumers []struct {
			Username string        `json:"username"`
			Plugins  []pluginEntry `json:"plugins"`
		} `json:"consumers"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if doc.Format != "3.0" {
		t.Errorf("_format_version %q, want \"3.0\"", doc.Format)
	}
	var out []pluginEntry
	add := func(where string, ps []pluginEntry) {
		for i, p := range ps {
			p.where = where + ".plugins[" + itoa(i) + "]"
			out = append(out, p)
		}
	}
	add("", doc.Plugins)
	for _, s := range doc.Services {
		add("services."+s.Name, s.Plugins)
		for _, r := range s.Routes {
			add("services."+s.Name+".routes."+r.Name, r.Plugins)
		}
	}
	for _, c := range doc.Consumers {
		add("consumers."+c.Username, c.Plugins)
	}
	return out
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestKongYAMLMatchesPluginSchemas validates every authkit plugin entry of
// the repository's kong.yaml against the schema the real binary dumps (as
// Kong does at startup: an unknown field is fatal in DB-less mode), then
// compiles it with the plugin's own code.
func TestKongYAMLMatchesPluginSchemas(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	entries := kongPlugins(t, filepath.Join(root, "kong.yaml"))
	seen := map[string]bool{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name, "authkit-") {
			continue
		}
		seen[e.Name] = true
		t.Run(e.where, func(t *testing.T) {
			info := kongwire.Dump(t, kongwire.Build(t, e.Name))
			schema, err := info.ConfigSchema()
			if err != nil {
				t.Fatal(err)
			}
			normalized, err := schema.Normalize(e.Config)
			if err != nil {
				t.Fatalf("Kong would refuse this entry: %v", err)
			}
			js, _ := json.Marshal(normalized)
			if err := pluginreg.CompileJSON(e.Name, js); err != nil {
				t.Fatalf("the plugin would refuse every request (CONFIG_INVALID): %v", err)
			}
		})
	}
	for _, name := range pluginreg.Names() {
		if !seen[name] {
			t.Errorf("kong.yaml has no route protected by %s", name)
		}
	}
}
