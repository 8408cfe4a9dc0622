package deploy

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// ignoreRule is one .dockerignore line, compiled the way Docker's
// patternmatcher does: path.Clean'ed, leading '/' dropped, `*` and `?` stop
// at '/', `**` crosses directories, and a pattern that matches a parent
// directory matches everything below it. The last matching rule wins; `!`
// re-includes.
type ignoreRule struct {
	re      *regexp.Regexp
	exclude bool
	text    string
}

func parseDockerignore(path string) ([]ignoreRule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rules []ignoreRule
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{exclude: true, text: line}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			r.exclude, line = false, strings.TrimSpace(rest)
		}
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		var b strings.Builder
		b.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '*' && i+1 < len(line) && line[i+1] == '*':
				i++
				if i+1 < len(line) && line[i+1] == '/' {
					i++
					b.WriteString("(.*/)?") // `**/` = zero or more directories
				} else {
					b.WriteString(".*")
				}
			case c == '*':
				b.WriteString("[^/]*")
			case c == '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, r.text, err)
		}
		r.re = re
		rules = append(rules, r)
	}
	return rules, sc.Err()
}

// ignored reports whether the slash-separated relative path rel is left
// out of the build context.
func ignored(rules []ignoreRule, rel string) bool {
	var prefixes []string
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefixes = append(prefixes, strings.Join(parts[:i+1], "/"))
	}
	out := false
	for _, r := range rules {
		for _, p := range prefixes {
			if r.re.MatchString(p) {
				out = r.exclude
				break
			}
		}
	}
	return out
}

// dockerignoreProblems checks the .dockerignore at path against the
// repository at repoRoot: every file the build needs is sent (go.mod,
// go.sum, kong.yaml, the non-test Go sources of pkg/, plugins/, cmd/,
// internal/), and the heavy or private paths are not.
func dockerignoreProblems(path, repoRoot string) []string {
	rules, err := parseDockerignore(path)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, f := range []string{"go.mod", "go.sum", "kong.yaml"} {
		if ignored(rules, f) {
			problems = append(problems, f+" is excluded, but the build COPYs it")
		}
	}
	for _, dir := range []string{"pkg", "plugins", "cmd", "internal"} {
		_ = filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			rel, _ := filepath.Rel(repoRoot, p)
			if rel = filepath.ToSlash(rel); ignored(rules, rel) {
				problems = append(problems, rel+" is excluded, but the build compiles it")
			}
			return nil
		})
	}
	for _, rel := range []string{
		".git/HEAD", "bin/authkit-basic", "tools/hydra/bin/hydra", "dist/x.tar.gz",
		"authkit.test", "pkg/accesstoken/accesstoken.test", "cover.out", "docs/error-codes.md",
		"deploy/compose.yaml", "plugins/authkit-basic/testdata/fuzz/FuzzX/0",
		"authkit-oauth-explain", // `go build ./plugins/<name>` run in the root leaves the binary there
	} {
		if !ignored(rules, rel) {
			problems = append(problems, rel+" would be sent to the builder")
		}
	}
	return problems
}

func TestDockerignore(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	reportProblems(t, ".dockerignore", dockerignoreProblems(filepath.Join(root, ".dockerignore"), root))
}

func TestDockerignoreChecksCanFail(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	path := filepath.Join(root, ".dockerignore")
	cases := []struct{ name, old, new, want string }{
		{"sources excluded", "!pkg/\n", "", "pkg/"},
		{"go.sum excluded", "!go.sum\n", "", "go.sum is excluded"},
		{"everything sent", "\n*\n", "\n", "authkit-oauth-explain would be sent"},
		{"test binaries sent", "**/*.test\n", "", "accesstoken.test would be sent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, dockerignoreProblems(brokenCopy(t, path, c.old, c.new), root), c.want)
		})
	}
	// The matcher itself, on Docker's documented examples.
	tmp := filepath.Join(t.TempDir(), ".dockerignore")
	if err := os.WriteFile(tmp, []byte("*/temp*\n**/*.md\n!README.md\nbuild/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := parseDockerignore(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"somedir/temporary.txt": true, "somedir/x/temp": false, "temp": false,
		"a/b/c.md": true, "README.md": false, "build/x/y": true, "src/build.go": false,
	} {
		if got := ignored(rules, rel); got != want {
			t.Errorf("ignored(%q) = %v, want %v", rel, got, want)
		}
	}
}
