//go:build unix

package pluginserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// startHeir starts the executable again, in a new session, with the
// listening socket as fd 3 and handoverEnv naming the socket file.
func startHeir(l net.Listener, path string, mine os.FileInfo) error {
	ul, ok := l.(*net.UnixListener)
	if !ok {
		return errors.New("not a Unix socket listener")
	}
	st, ok := mine.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no inode for the socket file")
	}
	f, err := ul.File() // a dup of the listening socket
	if err != nil {
		return err
	}
	defer f.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	env := append(os.Environ(), fmt.Sprintf("%s=%d:%d:%s", handoverEnv, uint64(st.Dev), uint64(st.Ino), path))
	p, err := os.StartProcess(exe, []string{exe}, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{devnull, devnull, devnull, f},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return err
	}
	return p.Release()
}

// inheritedSocket is the state of an heir: its socket file's identity and
// the listener on fd 3.
type inheritedSocket struct {
	path     string
	dev, ino uint64
	l        net.Listener
}

// inherited returns the socket an heir was started with, or nil when the
// process is not an heir.
func inherited() (*inheritedSocket, error) {
	spec := os.Getenv(handoverEnv)
	if spec == "" {
		return nil, nil
	}
	os.Unsetenv(handoverEnv)
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("%s=%q: want <dev>:<ino>:<path>", handoverEnv, spec)
	}
	dev, err1 := strconv.ParseUint(parts[0], 10, 64)
	ino, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("%s=%q: %w", handoverEnv, spec, err)
	}
	f := os.NewFile(3, "inherited plugin socket")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	return &inheritedSocket{path: parts[2], dev: dev, ino: ino, l: l}, nil
}

// replaced reports whether the socket file is no longer the inherited one.
func (h *inheritedSocket) replaced() bool {
	fi, err := os.Stat(h.path)
	if err != nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || uint64(st.Dev) != h.dev || uint64(st.Ino) != h.ino
}
