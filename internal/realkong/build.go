package realkong

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

var builds struct {
	sync.Mutex
	dirs map[string]string
}

// ReleaseBuildFlags are the Dockerfile's: static (CGO_ENABLED=0, set in
// the environment), reproducible paths, no symbol table.
var ReleaseBuildFlags = []string{"-trimpath", "-ldflags", "-s -w"}

// Plugins returns the names of the plugins under plugins/ (each directory
// is one plugin; the directory name is the binary and plugin name).
func Plugins(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(kongwire.ModuleRoot(t), "plugins"))
	if err != nil {
		t.Fatalf("realkong: %v", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// BuildPlugins builds every plugin under plugins/, the authkit CLI
// (cmd/authkit) and the extra main packages (module-relative directories,
// e.g. "e2e/testdata/plugins/authkit-probe") with the release flags,
// CGO_ENABLED=0 and GOFLAGS=-buildvcs=false, like the Dockerfile, into one
// directory, and returns it. Each executable is named after its directory:
// go-pdk takes the plugin name and socket name from it. One `go build` for
// all of them, once per test process and set of packages.
func BuildPlugins(t testing.TB, extra ...string) string {
	t.Helper()
	root := kongwire.ModuleRoot(t)
	pkgs := []string{"./cmd/authkit"}
	for _, p := range Plugins(t) {
		pkgs = append(pkgs, "./plugins/"+p)
	}
	for _, e := range extra {
		pkgs = append(pkgs, "./"+strings.TrimPrefix(filepath.ToSlash(e), "./"))
	}
	key := strings.Join(pkgs, "\x00")

	builds.Lock()
	defer builds.Unlock()
	if d, ok := builds.dirs[key]; ok {
		return d
	}
	sum := sha256.Sum256([]byte(root + "\x00" + key))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("authkit-realkong-%d", os.Getuid()), hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("realkong: %v", err)
	}
	// Build into a fresh directory and rename each binary into place: a
	// Kong of another test process may be running the previous ones.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		t.Fatalf("realkong: %v", err)
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"build", "-o", tmp + string(os.PathSeparator)}, ReleaseBuildFlags...)
	args = append(args, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("realkong: go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, p := range pkgs {
		name := filepath.Base(p)
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			t.Fatalf("realkong: %v", err)
		}
	}
	if builds.dirs == nil {
		builds.dirs = map[string]string{}
	}
	builds.dirs[key] = dir
	return dir
}
