package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// shippedPlugins are the plugins the static packaging files (Dockerfile,
// Helm values, KongPlugins) must name, whether or not their source has
// landed under plugins/ yet.
var shippedPlugins = []string{"authkit-basic", "authkit-key", "authkit-oauth", "authkit-oauth-explain"}

// pluginDirs returns the names of the directories under plugins/: each is
// one plugin binary, named like its directory.
func pluginDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(kongwire.ModuleRoot(t), "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatal("no plugin directories under plugins/")
	}
	return out
}

// allPlugins is every plugin the packaging must cover: the directories
// under plugins/ plus the shipped list.
func allPlugins(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	for _, p := range append(pluginDirs(t), shippedPlugins...) {
		set[p] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// envKey is the per-pluginserver key part Kong derives from a name:
// lower-cased, with '-' turned into '_' (kong-go-plugins.md §1.1).
func envKey(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "-", "_")
}

// splitList splits a Kong comma list ("bundled, a,b") into trimmed items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// sameSet reports whether a and b hold the same items, ignoring order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// brokenCopy copies the file at path into a temporary directory with old
// replaced by new (old must occur), for the tests proving that a check
// catches the mistake. The copy keeps the base name.
func brokenCopy(t *testing.T, path, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("brokenCopy: %q does not occur in %s", old, path)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// reportProblems fails the test once per problem.
func reportProblems(t *testing.T, what string, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
}

// wantProblem fails unless one of problems contains substr: the negative
// tests use it to prove a check can fail, and fails for the right reason.
func wantProblem(t *testing.T, problems []string, substr string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, substr) {
			t.Logf("caught as expected: %s", p)
			return
		}
	}
	t.Errorf("no problem mentioning %q; got %d problem(s):\n%s", substr, len(problems), strings.Join(problems, "\n"))
}
