package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// dfInstr is one Dockerfile instruction: lower-cased keyword, flags
// (--from=..., --mount=...) and arguments with outer quotes removed.
type dfInstr struct {
	cmd   string
	flags []string
	args  []string
	line  int
}

func (in dfInstr) flag(name string) string {
	for _, f := range in.flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// dfStage is one FROM ... section.
type dfStage struct {
	image, name string
	instrs      []dfInstr
}

// env returns the stage's ENV settings (later ones win).
func (s dfStage) env() map[string]string {
	env := map[string]string{}
	for _, in := range s.instrs {
		if in.cmd != "env" {
			continue
		}
		// buildkit's parser yields key, value, separator triplets.
		for i := 0; i+1 < len(in.args); i += 3 {
			env[in.args[i]] = in.args[i+1]
		}
	}
	return env
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		if s[0] == '"' {
			if u, err := strconv.Unquote(s); err == nil {
				return u
			}
		}
		return s[1 : len(s)-1]
	}
	return s
}

func parseDockerfile(path string) ([]dfStage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var stages []dfStage
	for _, n := range res.AST.Children {
		in := dfInstr{cmd: strings.ToLower(n.Value), flags: n.Flags, line: n.StartLine}
		for x := n.Next; x != nil; x = x.Next {
			in.args = append(in.args, unquote(x.Value))
		}
		if in.cmd == "from" {
			st := dfStage{}
			if len(in.args) > 0 {
				st.image = in.args[0]
			}
			if len(in.args) == 3 && strings.EqualFold(in.args[1], "as") {
				st.name = in.args[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before FROM
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	if len(stages) < 2 {
		return nil, fmt.Errorf("%s: %d stage(s), want a build stage and a Kong stage", path, len(stages))
	}
	return stages, nil
}

var (
	goImageRE   = regexp.MustCompile(`^golang:(1\.\d+)\.(\d+)-bookworm$`)
	kongImageRE = regexp.MustCompile(`^kong:3\.9\.\d+$`)
	goLineRE    = regexp.MustCompile(`(?m)^go (1\.\d+)(?:\.(\d+))?\s*$`)
)

// dockerfileProblems checks the Dockerfile at path against the plugins it
// must ship; repoRoot provides go.mod (the Go version the build needs).
func dockerfileProblems(path, repoRoot string, plugins []string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	stages, err := parseDockerfile(path)
	if err != nil {
		return []string{err.Error()}
	}
	stageNames := map[string]bool{}
	for _, st := range stages {
		if st.name != "" {
			stageNames[st.name] = true
		}
	}
	// Every external base image is pinned to an exact tag.
	for _, st := range stages {
		if stageNames[st.image] {
			continue
		}
		_, tag, ok := strings.Cut(st.image, ":")
		if !ok || tag == "" || tag == "latest" || strings.Contains(st.image, "$") {
			add("FROM %s: pin the image to an exact tag", st.image)
		}
	}

	build, final := stages[0], stages[len(stages)-1]
	// The build image: golang:1.X.Y-bookworm, at least go.mod's version.
	if m := goImageRE.FindStringSubmatch(build.image); m == nil {
		add("build stage FROM %s: want golang:1.N.P-bookworm with an exact patch", build.image)
	} else if gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod")); err == nil {
		if g := goLineRE.FindStringSubmatch(string(gomod)); g != nil {
			patch, _ := strconv.Atoi(m[2])
			want := 0
			if g[2] != "" {
				want, _ = strconv.Atoi(g[2])
			}
			if m[1] != g[1] || patch < want {
				add("build stage FROM %s: go.mod needs go %s.%s", build.image, g[1], g[2])
			}
		}
	}
	if !kongImageRE.MatchString(final.image) {
		add("final stage FROM %s: want kong:3.9.<patch>, pinned exactly", final.image)
	}

	// Builds: one `go build -o /out/<name> ./plugins/<name>` per plugin,
	// static (CGO_ENABLED=0 in the RUN or in the stage's ENV).
	cgoOff := build.env()["CGO_ENABLED"] == "0"
	builds := map[string]string{} // output -> package
	buildRE := regexp.MustCompile(`go build\b[^;&|]*?-o\s+(\S+)\s+(\./\S+)`)
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st.instrs {
			if in.cmd != "run" {
				continue
			}
			cmd := strings.Join(in.args, " ")
			for _, m := range buildRE.FindAllStringSubmatch(cmd, -1) {
				builds[m[1]] = m[2]
				if !cgoOff && !strings.Contains(cmd, "CGO_ENABLED=0") {
					add("line %d: %s is built without CGO_ENABLED=0 (a cgo binary fails to exec on another libc)", in.line, m[1])
				}
			}
		}
	}
	want := map[string]string{"/out/authkit": "./cmd/authkit"}
	for _, p := range plugins {
		want["/out/"+p] = "./plugins/" + p
	}
	for out, pkg := range want {
		if got, ok := builds[out]; !ok {
			add("no RUN builds %s (want `CGO_ENABLED=0 go build ... -o %s %s`)", out, out, pkg)
		} else if got != pkg {
			add("%s is built from %s, want %s", out, got, pkg)
		}
	}

	// The build stage runs each plugin's -dump (Kong refuses to start when
	// it prints anything but JSON).
	var dumpCheck string
	for _, in := range build.instrs {
		if cmd := strings.Join(in.args, " "); in.cmd == "run" && strings.Contains(cmd, "-dump") {
			dumpCheck = cmd
		}
	}
	for _, p := range plugins {
		if !regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(p) + `(\s|;|$)`).MatchString(dumpCheck) {
			add("the build stage's -dump check does not cover %s", p)
		}
	}

	// Installation: each binary copied, as a real file, to /usr/local/bin.
	copies := map[string]string{} // dest -> src
	var lastUser string
	var kongYAMLDest string
	for _, in := range final.instrs {
		switch in.cmd {
		case "user":
			if len(in.args) > 0 {
				lastUser = in.args[0]
			}
		case "copy":
			if len(in.args) < 2 {
				continue
			}
			dest := in.args[len(in.args)-1]
			for _, src := range in.args[:len(in.args)-1] {
				if in.flag("from") != "" {
					copies[dest] = src
				} else if filepath.Base(src) == "kong.yaml" {
					kongYAMLDest = dest
				}
			}
		case "run":
			if strings.Contains(strings.Join(in.args, " "), "ln -s") {
				add("line %d: symlinks in the Kong stage: go-pdk names a plugin after the symlink's target", in.line)
			}
		}
	}
	for _, p := range plugins {
		dest := "/usr/local/bin/" + p
		if src, ok := copies[dest]; !ok {
			add("the Kong stage does not COPY --from=<build> the %s binary to %s", p, dest)
		} else if src != "/out/"+p {
			add("%s is copied from %s, want /out/%s", dest, src, p)
		}
	}
	if lastUser != "kong" {
		add("the last USER of the Kong stage is %q, want kong", lastUser)
	}

	// Kong settings.
	env := final.env()
	var plugs []string
	for _, p := range splitList(env["KONG_PLUGINS"]) {
		if p != "bundled" {
			plugs = append(plugs, p)
		}
	}
	if !strings.Contains(","+env["KONG_PLUGINS"]+",", ",bundled,") {
		add("KONG_PLUGINS=%q does not keep the bundled plugins", env["KONG_PLUGINS"])
	}
	if !sameSet(plugs, plugins) {
		add("KONG_PLUGINS lists %v, want bundled plus %v", plugs, plugins)
	}
	if names := splitList(env["KONG_PLUGINSERVER_NAMES"]); !sameSet(names, plugins) {
		add("KONG_PLUGINSERVER_NAMES lists %v, want %v", names, plugins)
	}
	for _, p := range plugins {
		key := "KONG_PLUGINSERVER_" + strings.ToUpper(envKey(p))
		if got, want := env[key+"_START_CMD"], "/usr/local/bin/"+p; got != want {
			add("%s_START_CMD=%q, want %q", key, got, want)
		}
		if got, want := env[key+"_QUERY_CMD"], "/usr/local/bin/"+p+" -dump"; got != want {
			add("%s_QUERY_CMD=%q, want %q (required on Kong <= 3.8)", key, got, want)
		}
	}
	if env["KONG_DATABASE"] != "off" {
		add("KONG_DATABASE=%q, want off", env["KONG_DATABASE"])
	}
	switch {
	case kongYAMLDest == "":
		add("the Kong stage does not COPY kong.yaml")
	case env["KONG_DECLARATIVE_CONFIG"] != kongYAMLDest && env["KONG_DECLARATIVE_CONFIG"] != strings.TrimSuffix(kongYAMLDest, "/")+"/kong.yaml":
		add("KONG_DECLARATIVE_CONFIG=%q, but kong.yaml is copied to %q", env["KONG_DECLARATIVE_CONFIG"], kongYAMLDest)
	}
	healthy := false
	for _, in := range final.instrs {
		if in.cmd == "healthcheck" && strings.Contains(strings.Join(in.args, " "), "kong health") {
			healthy = true
		}
	}
	if !healthy {
		add("no HEALTHCHECK running `kong health`")
	}
	return problems
}

// dockerfileEnv returns the final stage's ENV of the repository's
// Dockerfile (for the compose and Helm checks).
func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
	stages, err := parseDockerfile(filepath.Join(kongwire.ModuleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return stages[len(stages)-1].env()
}

func TestDockerfile(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	plugins := allPlugins(t)
	t.Logf("plugins: %v", plugins)
	reportProblems(t, "Dockerfile", dockerfileProblems(filepath.Join(root, "Dockerfile"), root, plugins))
}

// TestDockerfileChecksCanFail breaks copies of the Dockerfile and expects
// each mistake to be reported.
func TestDockerfileChecksCanFail(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	path := filepath.Join(root, "Dockerfile")
	plugins := allPlugins(t)
	cases := []struct{ name, old, new, want string }{
		{"plugin not built", "-o /out/authkit-key ./plugins/authkit-key", "-o /out/authkit-keys ./plugins/authkit-key", "no RUN builds /out/authkit-key"},
		{"plugin not installed", "COPY --from=build /out/authkit-basic /usr/local/bin/authkit-basic", "COPY --from=build /out/authkit-basic /usr/local/bin/basic", "authkit-basic binary to /usr/local/bin/authkit-basic"},
		{"plugin not loaded", "KONG_PLUGINS=bundled,authkit-basic,", "KONG_PLUGINS=bundled,", "KONG_PLUGINS lists"},
		{"query cmd missing", `KONG_PLUGINSERVER_AUTHKIT_KEY_QUERY_CMD="/usr/local/bin/authkit-key -dump"`, `KONG_PLUGINSERVER_AUTHKIT_KEY_QUERY=x`, "AUTHKIT_KEY_QUERY_CMD"},
		{"unpinned kong", "FROM kong:3.9.1", "FROM kong:latest", "final stage FROM kong:latest"},
		{"old go", "FROM golang:1.26.8-bookworm", "FROM golang:1.26.1-bookworm", "go.mod needs go"},
		{"root at the end", "\nUSER kong\n", "\nUSER root\n", "want kong"},
		{"database", "KONG_DATABASE=off", "KONG_DATABASE=postgres", "KONG_DATABASE"},
		{"config path", "KONG_DECLARATIVE_CONFIG=/kong/kong.yaml", "KONG_DECLARATIVE_CONFIG=/etc/kong.yaml", "KONG_DECLARATIVE_CONFIG"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, dockerfileProblems(brokenCopy(t, path, c.old, c.new), root, plugins), c.want)
		})
	}
	// cgo: neither the stage ENV nor the RUN turns it off.
	t.Run("cgo", func(t *testing.T) {
		broken := brokenCopy(t, path, "CGO_ENABLED=0 GOTOOLCHAIN", "CGO_ENABLED=1 GOTOOLCHAIN")
		broken = brokenCopy(t, broken, "CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\" -o /out/authkit-key", "go build -trimpath -o /out/authkit-key")
		wantProblem(t, dockerfileProblems(broken, root, plugins), "/out/authkit-key is built without CGO_ENABLED=0")
	})
	// A plugin directory added without touching the Dockerfile is caught.
	t.Run("new plugin dir", func(t *testing.T) {
		wantProblem(t, dockerfileProblems(path, root, append(plugins, "authkit-new")), "no RUN builds /out/authkit-new")
	})
}
