// Package realkong runs a real Kong Gateway (3.7 or later) with the authkit
// plugin binaries for end-to-end tests: the outer loop around
// internal/kongwire. It finds Kong through AUTHKIT_KONG, builds the plugins
// with the release flags of the Dockerfile, starts Kong DB-less on free
// loopback ports with its own prefix, loaded exactly as README's "Loading
// the plugins into Kong" says (PluginEnv), waits until the plugin sockets
// and routes answer, and always stops it (`kong stop -p`), showing the
// error.log when a test failed.
//
// Typical use, in a package's TestMain and tests:
//
//	func TestMain(m *testing.M) { realkong.Main(m) }
//
//	func TestX(t *testing.T) {
//		bin := realkong.BuildPlugins(t)
//		g := realkong.Start(t, realkong.Options{BinDir: bin, Config: cfg})
//		resp, _ := http.Get(g.ProxyURL + "/basic")
//	}
package realkong

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// EnvKong is the environment variable naming the `kong` executable: the
// realkong/kong launcher of the tarball in ../shared/kong, or the `kong`
// of any Kong 3.7+ install.
const EnvKong = "AUTHKIT_KONG"

// SkipLine is the one line printed when the real-Kong tests are skipped.
const SkipLine = "realkong: the real-Kong tests were SKIPPED: " + EnvKong + " is not set. " +
	"Set it to a Kong 3.7+ `kong` executable (e.g. the realkong/kong launcher of ../shared/kong's tarball) to run them; see README, Testing."

var skipped atomic.Bool

// Executable returns the kong executable named by AUTHKIT_KONG, "" when
// the variable is unset or empty, and an error when it is set but does not
// name an executable file (a broken setting must not turn into a skip).
func Executable() (string, error) {
	p := os.Getenv(EnvKong)
	if p == "" {
		return "", nil
	}
	if !strings.Contains(p, "/") {
		lp, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvKong, p, err)
		}
		p = lp
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%s=%q: %w", EnvKong, p, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%q is not an executable file", EnvKong, p)
	}
	return p, nil
}

// errPolicy is the CI policy: in CI the real-Kong tests never skip.
var errPolicy = errors.New("realkong: CI is set but " + EnvKong + " is not: the real-Kong tests must run in CI " +
	"(.ci/run unpacks ../shared/kong and sets it; or set " + EnvKong + " to a Kong 3.7+ `kong` executable)")

// policy decides, from the environment, whether the real-Kong tests run
// (exe != ""), are skipped (exe == "" and err == nil), or fail (err).
func policy(getenv func(string) string, find func() (string, error)) (exe string, err error) {
	exe, err = find()
	if err != nil {
		return "", err
	}
	if exe == "" && getenv("CI") != "" {
		return "", errPolicy
	}
	return exe, nil
}

// Main is TestMain for a package with real-Kong tests. Without Kong it
// prints SkipLine once and the tests calling Require skip, so a developer
// without Kong still runs everything else; when CI is set and AUTHKIT_KONG
// is missing, or AUTHKIT_KONG is set but broken, the package fails before
// any test runs.
func Main(m *testing.M) {
	exe, err := policy(os.Getenv, Executable)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Println("FAIL")
		os.Exit(1)
	}
	if exe == "" {
		skipped.Store(true)
		fmt.Println(SkipLine)
	}
	code := m.Run()
	stopLeftovers()
	os.Exit(code)
}

// Require returns the kong executable, or skips the test when Main decided
// that the real-Kong tests are skipped. Outside Main (a package without
// the TestMain) it applies the same policy itself.
func Require(t testing.TB) string {
	t.Helper()
	if skipped.Load() {
		t.Skip("real Kong not available (" + EnvKong + " unset)")
	}
	exe, err := policy(os.Getenv, Executable)
	if err != nil {
		t.Fatal(err)
	}
	if exe == "" {
		t.Skip("real Kong not available (" + EnvKong + " unset)")
	}
	return exe
}
