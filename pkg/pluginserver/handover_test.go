package pluginserver

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
)

type handoverServer struct {
	s    *Server
	term chan os.Signal
	done chan struct{} // closed when ServeHandover returned err
	err  error
}

// wait waits up to d for ServeHandover to return.
func (h *handoverServer) wait(d time.Duration) (error, bool) {
	select {
	case <-h.done:
		return h.err, true
	case <-time.After(d):
		return nil, false
	}
}

func startHandover(t *testing.T, path string) *handoverServer {
	t.Helper()
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &handoverServer{s: New(func() any { return &testConfig{} }), term: make(chan os.Signal, 1), done: make(chan struct{})}
	h.s.logf = func(string, ...any) {}
	// In process there is no heir (it would be this test binary): the
	// server hands over by serving on until its successor listens.
	h.s.startHeir = func(net.Listener, string, os.FileInfo) error { return errors.New("no heir in process") }
	serving := make(chan struct{})
	go func() {
		defer close(h.done)
		close(serving)
		h.err = h.s.ServeHandover(l, path, h.term)
	}()
	<-serving
	// ServeHandover looks at its socket file first: give it the moment.
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
	}
	time.Sleep(20 * time.Millisecond)
	t.Cleanup(func() {
		select {
		case h.term <- syscall.SIGTERM:
		default:
		}
		os.Remove(path)
		if _, ok := h.wait(5 * time.Second); !ok {
			t.Error("server did not stop")
		}
	})
	return h
}

func dialKong(t *testing.T, path string) (*kong, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &kong{t: t, c: c, r: bufio.NewReader(c)}, nil
}

// Without an heir (startHeir failed), a server that got SIGTERM keeps
// serving until the successor has taken over the socket, and then stops
// without unlinking the successor's socket. (TestHandoverHeir covers the
// heir, with a real plugin binary.)
func TestHandoverOnSIGTERM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.socket")
	old := startHandover(t, path)
	old.term <- syscall.SIGTERM
	time.Sleep(50 * time.Millisecond)

	// Still serving after SIGTERM: a new connection gets an instance and
	// an event.
	k, err := dialKong(t, path)
	if err != nil {
		t.Fatalf("the draining server refused a connection: %v", err)
	}
	id := k.start(1, "m")
	if n := k.event(id); n != 1 {
		t.Fatalf("event on the draining server: %d calls", n)
	}
	if err, stopped := old.wait(0); stopped {
		t.Fatalf("the old server stopped before a successor listened: %v", err)
	}

	// The successor takes over the path: new connections reach it.
	next := startHandover(t, path)
	k2, err := dialKong(t, path)
	if err != nil {
		t.Fatalf("the successor's socket is gone: %v", err)
	}
	id = k2.start(2, "m")
	if next.s.instances.get(id) == nil || old.s.instances.get(id) != nil {
		t.Fatal("the new connection did not reach the successor")
	}
	// The old server retires its connection: it still answers a
	// StartInstance, but closes the connection on the next event, which
	// Kong retries elsewhere; then it stops, leaving the successor's
	// socket alone.
	if id := k.start(3, "m"); id == 0 {
		t.Fatal("no StartInstance answer from the retiring server")
	}
	if err, stopped := old.wait(100 * time.Millisecond); stopped {
		t.Fatalf("the old server stopped with a connection still open: %v", err)
	}
	k.send(&kpp.RpcCall{Call: &kpp.RpcCall_CmdHandleEvent{CmdHandleEvent: &kpp.CmdHandleEvent{InstanceId: 1, EventName: "access"}}})
	if _, err := readFrame(k.r); err == nil {
		t.Fatal("the retiring server answered an event instead of closing the connection")
	}
	if err, stopped := old.wait(2 * time.Second); !stopped || err != nil {
		t.Fatalf("the old server did not stop once its connections were gone: stopped=%v %v", stopped, err)
	}
	if _, err := dialKong(t, path); err != nil {
		t.Fatalf("the successor's socket is gone after the old server stopped: %v", err)
	}
}

func TestHandoverEndsWhenTheSocketIsGoneOrAfterTheGrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.socket")
	h := startHandover(t, path)
	h.term <- syscall.SIGTERM
	os.Remove(path) // kong stop, then the prefix removed
	if err, stopped := h.wait(2 * time.Second); !stopped || err != nil {
		t.Fatalf("the server did not stop cleanly after its socket was removed: stopped=%v %v", stopped, err)
	}

	defer func(g time.Duration) { HandoverGrace = g }(HandoverGrace)
	HandoverGrace = 200 * time.Millisecond
	path = filepath.Join(t.TempDir(), "t.socket")
	h = startHandover(t, path)
	start := time.Now()
	h.term <- syscall.SIGTERM
	if err, stopped := h.wait(3 * time.Second); !stopped || err != nil {
		t.Fatalf("the grace period did not end the server cleanly: stopped=%v %v", stopped, err)
	}
	if d := time.Since(start); d < HandoverGrace {
		t.Fatalf("stopped after %v, before the grace", d)
	}
}

// Listen replaces a socket file atomically: a client connecting all the
// while never finds the path missing (go-pdk's remove-then-listen left a
// gap in which Kong's connect failed with ENOENT).
func TestListenReplacesAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.socket")
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ls = append(ls, l)
	stop := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, err := net.Dial("unix", path)
			if err != nil {
				errs <- err
				return
			}
			c.Close()
		}
	}()
	for i := 0; i < 50; i++ {
		l, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	close(stop)
	if err := <-errs; err != nil {
		t.Fatalf("a connect failed while the socket was replaced: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}
