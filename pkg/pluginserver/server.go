// Package pluginserver is kong-authkit's embedded Kong plugin server. It
// speaks go-pdk v0.11.2's protocol (ProtoBuf:1) on the same socket, with the
// same flags and the same -dump, and hands handlers go-pdk's API unchanged
// (pdk.Init over a Conn). What it adds is I/O: one write per PDK call,
// deferred calls that answer nothing, batched independent reads, a
// recovered panic per event and per instance start, and an instance
// lifecycle without go-pdk's 60 s purge. docs/plugin-server.md says why.
package pluginserver

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Kong/go-pdk"
	// go-pdk's server package registers the flags Kong passes (-kong-prefix,
	// -dump, -help); the project keeps them exactly.
	_ "github.com/Kong/go-pdk/server"
	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// Server serves one plugin (one config type) to Kong's workers.
type Server struct {
	constructor func() any
	instances   registry
	// open counts Kong's connections; retiring is set once the socket has
	// been handed over (handover.go).
	open     atomic.Int64
	retiring atomic.Bool
	// startHeir starts the process that inherits the socket on SIGTERM
	// (handover.go); tests replace it.
	startHeir func(l net.Listener, path string, mine os.FileInfo) error
	// logf writes the server's own lines to stderr, which Kong copies to
	// error.log at info (kong-go-plugins.md §4.1).
	logf func(format string, args ...any)
}

// New returns a server for configs made by constructor (go-pdk's New: it
// must return a pointer).
func New(constructor func() any) *Server {
	return &Server{constructor: constructor, instances: registry{m: map[int32]*instance{}}, logf: log.Printf, startHeir: startHeir}
}

// metricsListen is the project's one flag besides go-pdk's: it is
// registered on the same flag set, which go-pdk's own flag.Parse reads too.
var metricsListen = flag.String("metrics-listen", "",
	"serve Prometheus metrics on `ADDR`/metrics (host:port; \":9542\" binds 127.0.0.1); default $"+metrics.EnvListen+", else off")

// Start is the plugin's main, in place of go-pdk's server.StartServer. It
// reads go-pdk's own flags (-kong-prefix, -dump, -help, registered by the
// go-pdk server package) and -metrics-listen, answers -dump with go-pdk's
// envelope and the config's full Kong schema (dump.go; nothing else is
// started then, so stdout stays that JSON), and otherwise
// starts the metrics listener when asked and listens on <prefix>/<executable
// name>.socket, as go-pdk does and Kong expects.
func Start(constructor func() any, version string, priority int) error {
	if h, err := inherited(); err != nil || h != nil {
		if err != nil {
			return err
		}
		return New(constructor).serveInherited(h)
	}
	if !flag.Parsed() {
		flag.Parse()
	}
	if flagBool("help") {
		flag.Usage()
		os.Exit(2)
	}
	prefix := "/usr/local/kong"
	if f := flag.Lookup("kong-prefix"); f != nil {
		prefix = f.Value.String()
	}
	if flagBool("dump") {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		info, err := DumpInfo(filepath.Base(exe), prefix, constructor, version, priority)
		if err != nil {
			return err
		}
		return writeDump(os.Stdout, info)
	}
	applyTestLifetimes()
	releaseMetrics := startMetrics(version)
	path, err := SocketPath(prefix)
	if err != nil {
		return err
	}
	l, err := Listen(path)
	if err != nil {
		return err
	}
	defer l.Close()
	return New(constructor).ServeHandover(l, path, releaseOnTerm(notifyTerm(), releaseMetrics))
}

// MetricsRetry is how long a plugin server keeps trying to bind a metrics
// address that is in use: on `kong reload` the predecessor may still hold
// it for a moment (it releases it on SIGTERM, see releaseOnTerm).
var MetricsRetry = time.Minute

// startMetrics enables the metrics and their listener when -metrics-listen
// or AUTHKIT_METRICS_LISTEN names an address, and returns the function that
// releases the listener (nil when there is none). A listener that fails is
// logged (stderr: Kong's error.log at info) and the plugin serves Kong all
// the same; recording is then turned off, so it costs nothing.
func startMetrics(version string) func() {
	addr := *metricsListen
	if addr == "" {
		addr = os.Getenv(metrics.EnvListen)
	}
	if addr == "" {
		return nil
	}
	name := "unknown"
	if exe, err := os.Executable(); err == nil {
		name = filepath.Base(exe)
	}
	metrics.Enable(name, version)
	var current atomic.Pointer[metrics.Listener]
	var released atomic.Bool
	serve := func() error {
		ml, err := metrics.Serve(addr, log.Printf)
		if err != nil {
			return err
		}
		current.Store(ml)
		if released.Load() {
			ml.Close()
			return nil
		}
		log.Printf("Serving metrics on http://%s%s", ml.Addr(), metrics.Path)
		return nil
	}
	err := serve()
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		log.Printf("metrics: %s is in use (a predecessor handing over?); retrying for %v", addr, MetricsRetry)
		go func() {
			for deadline := time.Now().Add(MetricsRetry); time.Now().Before(deadline) && !released.Load(); time.Sleep(200 * time.Millisecond) {
				if err = serve(); err == nil {
					return
				}
			}
			log.Printf("metrics are off: %v", err)
			metrics.Disable()
		}()
	case err != nil:
		log.Printf("metrics are off: %v", err)
		metrics.Disable()
		return nil
	}
	return func() {
		released.Store(true)
		if ml := current.Load(); ml != nil {
			ml.Close()
		}
	}
}

// releaseOnTerm passes the SIGTERM of in on, after release has freed the
// metrics port: the successor Kong starts on `kong reload` binds the same
// address, and an heir (handover.go) serves no metrics.
func releaseOnTerm(in <-chan os.Signal, release func()) <-chan os.Signal {
	if release == nil {
		return in
	}
	out := make(chan os.Signal, 1)
	go func() {
		sig := <-in
		release()
		out <- sig
	}()
	return out
}

func flagBool(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() == "true"
}

// SocketPath is where Kong connects: <prefix>/<basename of the executable>
// .socket (go-pdk server/os.go; Kong 3.9 pluginserver_<name>_socket
// default). os.Executable resolves symlinks, so the binary must be a real
// file named after the plugin.
func SocketPath(prefix string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Join(prefix, filepath.Base(exe)+".socket"), nil
}

// Listen listens on path, replacing a stale socket or a predecessor's
// atomically: it listens on a temporary name in the same directory and
// renames that over path, so Kong never finds path missing (go-pdk removes
// the file first, and a connect in between fails with ENOENT: a 500 when a
// plugin server replaces another on `kong reload`, seen in the real-Kong
// suite). A predecessor still serving the old socket notices the new file
// and retires (handover.go). The listener never unlinks path on Close: by
// then it may be a successor's.
func Listen(path string) (net.Listener, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%d.socket.tmp", os.Getpid()))
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("removing %s: %w", tmp, err)
	}
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("replacing %s: %w", path, err)
	}
	log.Printf("Listening on socket: %s", path)
	return l, nil
}

// Serve accepts Kong's connections until l fails for good. Temporary
// accept errors (too many open files) are retried with a backoff instead of
// ending the process, as go-pdk's log.Fatal does.
func (s *Server) Serve(l net.Listener) error {
	stop := make(chan struct{})
	defer close(stop)
	go s.reapIdle(stop)
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			var ne interface{ Temporary() bool }
			if errors.As(err, &ne) && ne.Temporary() || errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "too many open files") {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go s.serveConn(newConn(nc))
	}
}

// serveConn answers Kong's commands on one connection, in order, until Kong
// closes it. As in go-pdk there is no error frame: a command that fails
// closes the connection and Kong sees "closed" (for an event: it resets the
// plugin's instances and retries; for StartInstance: a 500).
func (s *Server) serveConn(c *Conn) {
	s.open.Add(1)
	defer s.open.Add(-1)
	defer c.Close()
	for {
		frame, err := c.readCall()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.logf("%v", err)
			}
			return
		}
		var call kpp.RpcCall
		if err := proto.Unmarshal(frame, &call); err != nil {
			s.logf("decoding RpcCall: %v", err)
			return
		}
		ev := call.GetCmdHandleEvent()
		if ev != nil && s.retiring.Load() {
			// Handed over (handover.go): Kong takes "closed" on an event
			// as a cue to restart the instance and retry, on a connection
			// to the successor. Closing a pooled connection at any other
			// moment could fail Kong's next send on it.
			return
		}
		var began time.Duration
		if ev != nil {
			began = metrics.EventStart()
		}
		ret, err := s.command(c, &call)
		if err != nil {
			s.logf("%v", err)
			return
		}
		if c.Exited() {
			// Kong dropped the connection with the request.
			metrics.Event(ev.GetEventName(), began, c.stats.Writes)
			return
		}
		var out []byte
		if ret != nil {
			ret.Sequence = call.Sequence
			if out, err = proto.Marshal(ret); err != nil {
				s.logf("%v", err)
				return
			}
		}
		if ev != nil {
			err = c.endEvent(out)
			metrics.Event(ev.EventName, began, c.stats.Writes)
		} else {
			err = c.reply(out)
		}
		if err != nil {
			return
		}
	}
}

func (s *Server) command(c *Conn, call *kpp.RpcCall) (*kpp.RpcReturn, error) {
	switch cmd := call.Call.(type) {
	case *kpp.RpcCall_CmdStartInstance:
		inst, err := s.startInstance(cmd.CmdStartInstance.Name, cmd.CmdStartInstance.Config)
		if err != nil {
			return nil, err
		}
		return status(inst), nil
	case *kpp.RpcCall_CmdGetInstanceStatus:
		inst := s.instances.get(cmd.CmdGetInstanceStatus.InstanceId)
		if inst == nil {
			return nil, fmt.Errorf("no plugin instance %d", cmd.CmdGetInstanceStatus.InstanceId)
		}
		return status(inst), nil
	case *kpp.RpcCall_CmdCloseInstance:
		inst := s.instances.remove(cmd.CmdCloseInstance.InstanceId)
		if inst == nil {
			return nil, fmt.Errorf("no plugin instance %d", cmd.CmdCloseInstance.InstanceId)
		}
		inst.close()
		s.logf("closed instance %d", inst.id)
		return status(inst), nil
	case *kpp.RpcCall_CmdHandleEvent:
		if err := s.event(c, cmd.CmdHandleEvent); err != nil {
			return nil, err
		}
		return &kpp.RpcReturn{}, nil
	case *kpp.RpcCall_CmdGetPluginNames, *kpp.RpcCall_CmdGetPluginInfo:
		return nil, nil // go-pdk answers these with an empty frame too
	}
	return nil, fmt.Errorf("RPC call has unexpected type %T", call.Call)
}

func status(inst *instance) *kpp.RpcReturn {
	return &kpp.RpcReturn{Return: &kpp.RpcReturn_InstanceStatus{InstanceStatus: &kpp.InstanceStatus{
		Name: inst.name, InstanceId: inst.id, StartedAt: inst.started.Unix(),
	}}}
}

// event runs one phase handler. A panic that the handler did not recover
// itself is answered here: the process and every other request on it
// live, and the client gets Kong's own 500 (never the request proxied
// unauthenticated).
func (s *Server) event(c *Conn, ev *kpp.CmdHandleEvent) error {
	inst := s.instances.get(ev.InstanceId)
	if inst == nil {
		return fmt.Errorf("no plugin instance %d", ev.InstanceId)
	}
	h := inst.handlers[ev.EventName]
	if h == nil {
		return fmt.Errorf("undefined method %s", ev.EventName)
	}
	inst.lastEvent.Store(time.Now().UnixNano())
	c.beginEvent()
	k := pdk.Init(c)
	byPDK.Store(k, c)
	defer byPDK.Delete(k)
	return s.runHandler(c, ev.EventName, func() { h(k) })
}

// PanicBody is the client body of a recovered panic: Kong's own.
const PanicBody = `{"message":"An unexpected error occurred"}`

func (s *Server) runHandler(c *Conn, phase string, h func()) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		stack := debug.Stack()
		s.logf("recovered panic in the %s handler: %v\n%s", phase, p, stack)
		if c.exited {
			return
		}
		if c.broken {
			err = fmt.Errorf("panic in the %s handler with the connection in an unknown state: %v", phase, p)
			return
		}
		c.abandonPartial()
		msg := fmt.Sprintf("authkit plugin server: recovered panic in the %s handler: %v", phase, p)
		_ = c.Defer("kong.log.err", logArgs(msg))
		if phase == "log" || phase == "certificate" || phase == "preread" {
			return // no response to replace: the event ends normally
		}
		if exitErr := c.Exit(500, []byte(PanicBody), map[string][]string{"Content-Type": {"application/json; charset=utf-8"}}); exitErr != nil {
			err = exitErr
		}
	}()
	h()
	return nil
}

// ConnOf returns the Conn behind a handler's *pdk.PDK, or nil when the
// handler runs under another server (go-pdk's own, or its test package).
func ConnOf(k *pdk.PDK) *Conn {
	if v, ok := byPDK.Load(k); ok {
		return v.(*Conn)
	}
	return nil
}

// logArgs is the argument of kong.log.<level>: a list of values that Kong
// concatenates (kong-go-plugins.md §4.2).
func logArgs(msg string) *structpb.ListValue {
	return &structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue(msg)}}
}
