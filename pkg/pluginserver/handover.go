package pluginserver

import (
	"errors"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Handover keeps Kong's plugin socket served while `kong reload` replaces
// the plugin server.
//
// Why: on `kong reload` the exiting worker 0 sends the plugin server
// SIGTERM (Kong.exit_worker → stop_pluginservers,
// kong/runloop/plugin_servers/process.lua), and its Lua VM then reaps the
// ngx.pipe process object, which SIGKILLs the process
// (ngx_http_lua_ffi_pipe_proc_destroy). The new worker 0 spawns the
// successor only once it has initialised, seconds later, and the new
// workers serve traffic in between. With nobody listening on the socket,
// every request in that gap got Kong's 500 ("connect() … failed (111:
// Connection refused)"): seen in the real-Kong suite when the old worker 0
// exited first (docs/kong-behaviour.md).
//
// So on SIGTERM the server starts an heir: the same executable, in a new
// session (out of reach of the SIGKILL aimed at the original), that
// inherits the listening socket and serves it until a successor has
// replaced the socket file (Listen removes it and listens anew), the file
// is gone (`kong stop` and the prefix removed), or HandoverGrace has
// passed. The original stops accepting and lets its events in flight end.
// The heir starts with no instances and cold caches: Kong's "no plugin
// instance" answer makes it start the instance again, and the compiled
// config and key sets are fetched once more.
//
// A server that has handed over retires its connections without failing
// a request: Kong keeps them in its keepalive pools, and Kong 3.9.3
// asserts (500) when a send on a pooled connection fails, which closing
// one at an arbitrary moment can cause. Instead the next event that comes
// on such a connection is answered by closing it: Kong treats "closed" on
// an event as a cue to restart the instance and retry, and its retry
// connects to the successor. Other commands (StartInstance…) are still
// answered. The heir exits once Kong has closed or left all its
// connections (Kong's keepalive timeout is 60 s), at most RetireMax after
// the handover.
var RetireMax = 75 * time.Second
var HandoverGrace = 15 * time.Second

// handoverEnv carries "<dev>:<ino>:<socket path>" to the heir, whose fd 3
// is the listening socket.
const handoverEnv = "AUTHKIT_PLUGINSERVER_HANDOVER"

// handoverPoll is how often a handing-over server looks at its socket file.
const handoverPoll = 10 * time.Millisecond

// ServeHandover is Serve on l, which listens at path, until a signal on
// term; then it hands the socket over to an heir (or, if it cannot start
// one, keeps serving itself until a successor takes over: see
// HandoverGrace) and returns nil once its own events have ended. l does not
// unlink path when closed: by then the path may be the successor's.
func (s *Server) ServeHandover(l net.Listener, path string, term <-chan os.Signal) error {
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	mine, err := os.Stat(path)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-term:
		case <-stop:
			return
		}
		// Kong's worker that reads our output is exiting: a write to the
		// closed pipe must not kill the process (Go's default on fd 1/2).
		signal.Ignore(syscall.SIGPIPE)
		if err := s.startHeir(l, path, mine); err == nil {
			s.logf("SIGTERM: an heir serves %s until a successor listens", path)
			s.retiring.Store(true)
			l.Close()
			return // Kong SIGKILLs this process right away
		}
		s.logf("SIGTERM: no heir: serving %s until a successor listens (at most %v)", path, HandoverGrace)
		waitForSuccessor(path, mine, HandoverGrace)
		s.retiring.Store(true)
		l.Close()
	}()
	err = s.Serve(l)
	close(stop)
	<-watched
	if !errors.Is(err, net.ErrClosed) {
		return err
	}
	s.retire()
	return nil
}

// waitForSuccessor returns once path no longer names the socket mine (a
// successor replaced it, or it was removed), or after grace.
func waitForSuccessor(path string, mine os.FileInfo, grace time.Duration) {
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(handoverPoll) {
		fi, err := os.Stat(path)
		if err != nil || !os.SameFile(fi, mine) {
			return
		}
	}
}

// retire returns once Kong has no connection open to this server, or
// after RetireMax (see RetireMax).
func (s *Server) retire() {
	for deadline := time.Now().Add(RetireMax); s.open.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(handoverPoll)
	}
}

// notifyTerm is the SIGTERM channel of Start.
func notifyTerm() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	return ch
}

// serveInherited is the heir's life: serve the inherited socket until the
// successor has replaced the socket file, the file is gone, or
// HandoverGrace has passed, then let the events in flight end.
func (s *Server) serveInherited(h *inheritedSocket) error {
	go func() {
		for deadline := time.Now().Add(HandoverGrace); time.Now().Before(deadline) && !h.replaced(); {
			time.Sleep(handoverPoll)
		}
		s.retiring.Store(true)
		h.l.Close()
	}()
	if err := s.Serve(h.l); !errors.Is(err, net.ErrClosed) {
		return err
	}
	s.retire()
	return nil
}
