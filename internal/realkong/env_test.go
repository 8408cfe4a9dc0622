package realkong

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// readmeEnv returns the KEY=VALUE lines of README's sh block under
// "Loading the plugins into Kong".
func readmeEnv(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kongwire.ModuleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Loading the plugins into Kong")
	if i < 0 {
		t.Fatal(`README has no "## Loading the plugins into Kong" section`)
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n")
	if start < 0 {
		t.Fatal("README's loading section has no sh block")
	}
	s = s[start+len("```sh\n"):]
	s = s[:strings.Index(s, "```")]
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("README sh block: not KEY=VALUE: %q", line)
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		env[k] = v
	}
	return env
}

func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(kongwire.ModuleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			env = map[string]string{} // keep the final stage only
			continue
		}
		if !strings.EqualFold(n.Value, "env") {
			continue
		}
		var args []string
		for x := n.Next; x != nil; x = x.Next {
			args = append(args, x.Value)
		}
		for i := 0; i+1 < len(args); i += 3 { // key, value, separator
			v := args[i+1]
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			env[args[i]] = v
		}
	}
	return env
}

// pluginKeys keeps the settings PluginEnv produces.
func pluginKeys(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if k == "KONG_PLUGINS" || strings.HasPrefix(k, "KONG_PLUGINSERVER_") {
			out[k] = v
		}
	}
	return out
}

func sameEnv(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q (what the real-Kong suite does)", what, k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s sets %s, which the real-Kong suite does not", what, k)
		}
	}
}

// The README's loading instructions and the Dockerfile are exactly what
// the real-Kong suite does (PluginEnv), so the docs cannot drift from what
// is proven to work: same binary names, START/QUERY commands, and
// -kong-prefix exactly when the prefix is not Kong's default.
func TestLoadingInstructionsAreWhatTheSuiteDoes(t *testing.T) {
	sameEnv(t, "README", readmeEnv(t), PluginEnv("/usr/local/bin", DefaultPrefix, []string{"authkit-basic"}))
	sameEnv(t, "Dockerfile", pluginKeys(dockerfileEnv(t)), PluginEnv("/usr/local/bin", DefaultPrefix, Plugins(t)))

	other := PluginEnv("/opt/authkit/bin", "/var/run/kong", []string{"authkit-key"})
	if got := other["KONG_PLUGINSERVER_AUTHKIT_KEY_START_CMD"]; got != "/opt/authkit/bin/authkit-key -kong-prefix /var/run/kong" {
		t.Errorf("a non-default prefix must reach go-pdk through -kong-prefix: %q", got)
	}
	b, err := os.ReadFile(filepath.Join(kongwire.ModuleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "add `-kong-prefix <prefix>` to `START_CMD`") {
		t.Error("README no longer says to add -kong-prefix to START_CMD for a non-default prefix")
	}
}

// The suite builds the plugins with the Dockerfile's flags.
func TestReleaseFlagsAreTheDockerfiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(kongwire.ModuleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	builds := regexp.MustCompile(`CGO_ENABLED=0 go build ([^\n]*?) -o /out/(\S+) \./`).FindAllStringSubmatch(string(b), -1)
	if len(builds) < len(Plugins(t)) {
		t.Fatalf("found %d go build lines in the Dockerfile", len(builds))
	}
	want := `-trimpath -ldflags "-s -w"`
	if strings.Join(ReleaseBuildFlags[:2], " ")+` "`+ReleaseBuildFlags[2]+`"` != want {
		t.Fatalf("ReleaseBuildFlags %q", ReleaseBuildFlags)
	}
	for _, m := range builds {
		if m[1] != want {
			t.Errorf("Dockerfile builds %s with %q, the suite with %q", m[2], m[1], want)
		}
	}
}

func TestPolicy(t *testing.T) {
	env := func(ci string) func(string) string {
		return func(k string) string {
			if k == "CI" {
				return ci
			}
			return ""
		}
	}
	none := func() (string, error) { return "", nil }
	found := func() (string, error) { return "/opt/kong/bin/kong", nil }
	broken := func() (string, error) { return "", errors.New("not executable") }

	if exe, err := policy(env(""), none); exe != "" || err != nil {
		t.Errorf("laptop without Kong: want skip, got %q %v", exe, err)
	}
	if _, err := policy(env("1"), none); !errors.Is(err, errPolicy) {
		t.Errorf("CI without Kong: want failure, got %v", err)
	}
	if exe, err := policy(env("1"), found); exe == "" || err != nil {
		t.Errorf("CI with Kong: want run, got %q %v", exe, err)
	}
	if _, err := policy(env(""), broken); err == nil {
		t.Error("a broken AUTHKIT_KONG must fail, not skip")
	}
}

func TestExecutable(t *testing.T) {
	t.Setenv(EnvKong, "")
	if p, err := Executable(); p != "" || err != nil {
		t.Fatalf("unset: %q %v", p, err)
	}
	dir := t.TempDir()
	t.Setenv(EnvKong, dir)
	if _, err := Executable(); err == nil {
		t.Fatal("a directory is not a kong executable")
	}
	f := filepath.Join(dir, "kong")
	if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvKong, f)
	if _, err := Executable(); err == nil {
		t.Fatal("a file without the x bit is not executable")
	}
	if err := os.Chmod(f, 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := Executable(); p != f || err != nil {
		t.Fatalf("executable: %q %v", p, err)
	}
}

// make test-kong-docker runs the suite in the Kong image the project
// ships on, with the Go of the project's build stage (it cannot run where
// there is no Docker engine, so this keeps it from drifting).
func TestDockerSuiteImages(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	froms := func(path string) []string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res, err := parser.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		args := map[string]string{}
		var out []string
		for _, n := range res.AST.Children {
			switch strings.ToLower(n.Value) {
			case "arg":
				if k, v, ok := strings.Cut(n.Next.Value, "="); ok {
					args[k] = v
				}
			case "from":
				img := n.Next.Value
				if strings.HasPrefix(img, "${") {
					img = args[strings.Trim(img, "${}")]
				}
				out = append(out, img)
			}
		}
		return out
	}
	shipped := froms(filepath.Join(root, "Dockerfile"))
	suite := froms(filepath.Join(root, "e2e", "docker", "Dockerfile"))
	if len(shipped) < 2 || len(suite) != 2 {
		t.Fatalf("FROM lines: Dockerfile %v, e2e/docker/Dockerfile %v", shipped, suite)
	}
	if suite[0] != shipped[0] || suite[1] != shipped[len(shipped)-1] {
		t.Errorf("e2e/docker/Dockerfile uses %v, the shipped Dockerfile %s (Go) and %s (Kong)", suite, shipped[0], shipped[len(shipped)-1])
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "KONG_IMAGE ?= "+shipped[len(shipped)-1]+"\n") || !strings.Contains(string(mk), "-f e2e/docker/Dockerfile") {
		t.Error("Makefile's test-kong-docker does not build e2e/docker/Dockerfile with the shipped Kong image")
	}
}
