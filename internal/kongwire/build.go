package kongwire

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var buildCache struct {
	sync.Mutex
	bins map[string]string
}

// ModuleRoot returns the directory holding go.mod, found by walking up from
// the current working directory (the package directory under `go test`).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("kongwire: getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("kongwire: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Build compiles ./plugins/<name> (relative to the module root) and returns
// the path of the executable, which is named exactly <name>: go-pdk takes the
// plugin name reported by -dump and the socket name <name>.socket from the
// executable's basename (kong-go-plugins.md §1.1, §1.3). Builds are cached per
// (directory, name, tags) for the lifetime of the test process, under
// $TMPDIR/kongwire-build-<uid>/. When the
// tests run with -race the plugin is built with -race as well.
func Build(t testing.TB, name string, tags ...string) string {
	t.Helper()
	return BuildDir(t, filepath.Join(ModuleRoot(t), "plugins", name), name, tags...)
}

// BuildDir is Build for a plugin main package in an arbitrary directory
// (absolute, or relative to the current working directory), e.g. a test
// plugin under testdata/. The executable is named name.
func BuildDir(t testing.TB, dir, name string, tags ...string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	if name == "" || strings.ContainsAny(name, `/\`) {
		t.Fatalf("kongwire: invalid plugin name %q", name)
	}
	key := abs + "\x00" + name + "\x00" + strings.Join(tags, ",")

	buildCache.Lock()
	defer buildCache.Unlock()
	if buildCache.bins == nil {
		buildCache.bins = map[string]string{}
	}
	if bin, ok := buildCache.bins[key]; ok {
		return bin
	}
	// A stable directory per (dir, name, tags, race) so repeated test runs
	// overwrite instead of piling up binaries; the binary is built under a
	// temporary name and renamed into place, which is safe while another
	// test process runs the previous one.
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%v", key, raceEnabled)))
	outDir := filepath.Join(os.TempDir(), fmt.Sprintf("kongwire-build-%d", os.Getuid()), hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	tmpDir, err := os.MkdirTemp(outDir, "tmp-")
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	defer os.RemoveAll(tmpDir)
	bin := filepath.Join(outDir, name)
	tmpBin := filepath.Join(tmpDir, name)
	args := []string{"build", "-o", tmpBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = abs
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kongwire: go %s (in %s): %v\n%s", strings.Join(args, " "), abs, err, out)
	}
	if err := os.Rename(tmpBin, bin); err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	buildCache.bins[key] = bin
	return bin
}
