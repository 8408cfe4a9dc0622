package pluginserver_test

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// startInstance opens a connection to the plugin socket and starts an
// instance there, as Kong does on a worker's first request.
func startInstance(sock string) error {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	b, _ := proto.Marshal(&kpp.RpcCall{Sequence: 1, Call: &kpp.RpcCall_CmdStartInstance{
		CmdStartInstance: &kpp.CmdStartInstance{Name: "pstest", Config: []byte(`{"message":"m"}`)}}})
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(b)))
	if _, err := c.Write(append(frame, b...)); err != nil {
		return err
	}
	var n [4]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return err
	}
	out := make([]byte, binary.LittleEndian.Uint32(n[:]))
	if _, err := io.ReadFull(c, out); err != nil {
		return err
	}
	var ret kpp.RpcReturn
	if err := proto.Unmarshal(out, &ret); err != nil {
		return err
	}
	if ret.GetInstanceStatus() == nil {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// eventually retries f for up to d.
func eventually(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processesOf lists the pids running bin (Linux: /proc).
func processesOf(bin string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// On `kong reload`, Kong SIGTERMs the old plugin server and its worker then
// SIGKILLs it (ngx.pipe's destroy), possibly before the new worker 0 has
// started the successor. The heir keeps the socket served in between, and
// stops once the successor listens, leaving the successor's socket alone.
func TestHandoverHeir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the heir through /proc")
	}
	bin := pstest(t, false)
	prefix, err := os.MkdirTemp("", "ho") // short: Unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(prefix)
	sock := filepath.Join(prefix, "pstest.socket")
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-kong-prefix", prefix)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd
	}
	t.Cleanup(func() { // an heir a failed test left behind
		for _, pid := range processesOf(bin) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	old := start()
	if err := eventually(5*time.Second, func() error { return startInstance(sock) }); err != nil {
		t.Fatalf("the server does not answer: %v", err)
	}
	// Kong: SIGTERM from exit_worker, then the SIGKILL of ngx.pipe's destroy
	// (about 100 ms later in Kong). The kill waits until the heir exists:
	// on a loaded machine the old server may not even have handled the
	// signal within 100 ms, and what is tested is that a spawned heir keeps
	// the socket served, not how fast the runtime delivers a signal.
	_ = old.Process.Signal(syscall.SIGTERM)
	if err := eventually(10*time.Second, func() error {
		for _, pid := range processesOf(bin) {
			if pid != old.Process.Pid {
				return nil
			}
		}
		return io.EOF
	}); err != nil {
		t.Fatal("no heir was spawned after SIGTERM")
	}
	_ = old.Process.Kill()
	_, _ = old.Process.Wait()

	for i := 0; i < 3; i++ {
		if err := startInstance(sock); err != nil {
			t.Fatalf("nobody serves the socket after the old server died: %v", err)
		}
	}
	heirs := processesOf(bin)
	if len(heirs) != 1 {
		t.Fatalf("want one heir, found %v", heirs)
	}

	next := start()
	if err := eventually(5*time.Second, func() error {
		for _, pid := range processesOf(bin) {
			if pid == heirs[0] {
				return io.EOF
			}
		}
		return nil
	}); err != nil {
		t.Fatal("the heir did not stop after the successor listened")
	}
	for i := 0; i < 3; i++ {
		if err := startInstance(sock); err != nil {
			t.Fatalf("the successor's socket does not answer after the heir left: %v", err)
		}
	}
	if p := processesOf(bin); len(p) != 1 || p[0] != next.Process.Pid {
		t.Fatalf("processes %v, want only the successor %d", p, next.Process.Pid)
	}
}
