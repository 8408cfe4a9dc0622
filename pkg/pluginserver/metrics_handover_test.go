package pluginserver_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// On `kong reload` the old plugin server gets SIGTERM and may live on for
// a while (an heir serves the socket, or it waits for Kong to leave its
// pooled connections); its successor starts with the same -metrics-listen.
// The old server frees the metrics port on SIGTERM, so the successor serves
// metrics at once, not after the old one has exited.
func TestHandoverReleasesTheMetricsPort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the heir through /proc")
	}
	bin := pstest(t, false)
	prefix, err := os.MkdirTemp("", "hm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(prefix)
	sock := filepath.Join(prefix, "pstest.socket")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-kong-prefix", prefix, "-metrics-listen", addr)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd
	}
	t.Cleanup(func() {
		for _, pid := range processesOf(bin) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	scrape := func() error {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return os.ErrInvalid
		}
		return nil
	}

	old := start()
	if err := eventually(5*time.Second, func() error { return startInstance(sock) }); err != nil {
		t.Fatalf("the server does not answer: %v", err)
	}
	if err := eventually(5*time.Second, scrape); err != nil {
		t.Fatalf("no metrics: %v", err)
	}
	// Kong's keepalive pool keeps a connection to the old server open: it
	// lives on after SIGTERM until that connection goes.
	pooled, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Close()
	_ = old.Process.Signal(syscall.SIGTERM)
	if err := eventually(5*time.Second, func() error {
		if scrape() == nil {
			return os.ErrExist // still served by the old server
		}
		return nil
	}); err != nil {
		t.Fatal("the old server still serves metrics after SIGTERM")
	}
	start()
	if err := eventually(10*time.Second, scrape); err != nil {
		t.Fatalf("the successor does not serve metrics while its predecessor lives: %v", err)
	}
	if !slices.Contains(processesOf(bin), old.Process.Pid) {
		t.Fatal("the old server exited: the test proves nothing")
	}
}
