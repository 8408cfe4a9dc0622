package kongwire

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"google.golang.org/protobuf/proto"
)

// DefaultEventTimeout bounds one event (and StartInstance/CloseInstance).
// Kong's cosocket timeout is 60 s and then answers 500 (§2.3); tests use a
// shorter bound so that a hung plugin fails fast.
const DefaultEventTimeout = 10 * time.Second

// Consumer is a row of Kong's consumers table and the proto Consumer message.
type Consumer struct {
	ID, Username, CustomID string
	CreatedAt              int64
	Tags                   []string
}

// Credential is the proto AuthenticatedCredential (kong.client.get_credential).
type Credential struct {
	ID, ConsumerID string
}

// Server is one running plugin process plus the Kong-side state it is
// served from. It plays worker 0 (which spawns the process, §1.2 step 4)
// and the worker that sends events.
type Server struct {
	// Bin is the plugin executable; Info and Schema come from its -dump.
	Bin    string
	Info   *Info
	Schema *Field
	// Prefix is the -kong-prefix directory; SocketPath = Prefix/<name>.socket.
	Prefix     string
	SocketPath string
	// EventTimeout bounds each event; DefaultEventTimeout if zero.
	EventTimeout time.Duration
	// WorkspaceID is the __ws_id sent in every config (the default workspace).
	WorkspaceID string
	// KongEnv is Kong's own environment, which its env vault reads: a
	// "{vault://env/<name>}" value of a referenceable field reaches the
	// plugin as KongEnv[<NAME>] ("" when unset), as in Kong, where the
	// worker resolves it; the plugin process's environment plays no part.
	KongEnv map[string]string
	// NodeID is what kong.node.get_id returns.
	NodeID string

	// ClientBodyBufferSize is nginx's client_body_buffer_size: a request
	// body larger than this reaches the plugin as a file path
	// (RawBodyResult.body_filepath), see body.go. 0 means Kong's default,
	// DefaultClientBodyBufferSize.
	ClientBodyBufferSize int
	// BodyFileUnreachable models a plugin server that does not share Kong's
	// filesystem (external process management, another container): the
	// path of a spooled body does not exist for it.
	BodyFileUnreachable bool

	// Consumers is Kong's consumer table used by kong.client.load_consumer.
	// Set it before the first event or use SetConsumers.
	Consumers []Consumer

	mu     sync.Mutex // guards Consumers, pool, ctxs
	pool   []net.Conn
	ctxs   map[*Request]*reqCtx
	closed bool

	seq      atomic.Int64 // __seq__ (plugins_iterator:__seq__)
	spoolSeq atomic.Int64 // client_body_temp file names
	msgID    atomic.Int64 // RpcCall.sequence

	crashExpected atomic.Bool

	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	outDone chan struct{}
	outMu   sync.Mutex
	output  []string
}

// Start runs `<bin> -kong-prefix <tmpdir>` the way Kong's worker 0 spawns a
// pluginserver (§1.1, §2.4), waits (at most 10 s) for <tmpdir>/<basename>.socket
// to accept connections, and captures the merged stdout+stderr lines (Kong
// copies them to error.log at info level, §4.1; see ProcessOutput). The
// process gets exactly env as its environment and nothing else: nginx clears
// the environment of the workers that spawn plugins (§5). The process is
// killed in t.Cleanup; its output is logged there if the test failed.
func Start(t testing.TB, bin string, env ...string) *Server {
	t.Helper()
	return StartArgs(t, bin, nil, env...)
}

// StartArgs is Start with extra command-line arguments after
// `-kong-prefix <tmpdir>`, as a START_CMD would carry them (e.g.
// `-metrics-listen 127.0.0.1:0`).
func StartArgs(t testing.TB, bin string, args []string, env ...string) *Server {
	t.Helper()
	info, err := cachedDump(bin)
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	schema, err := info.ConfigSchema()
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	// Not t.TempDir: unix socket paths are limited to ~108 bytes.
	prefix, err := os.MkdirTemp("", "kw")
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	s := &Server{
		Bin:         bin,
		Info:        info,
		Schema:      schema,
		Prefix:      prefix,
		SocketPath:  filepath.Join(prefix, filepath.Base(bin)+".socket"),
		WorkspaceID: newUUID(),
		NodeID:      newUUID(),
		ctxs:        map[*Request]*reqCtx{},
		exited:      make(chan struct{}),
		outDone:     make(chan struct{}),
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	s.cmd = exec.Command(bin, append([]string{"-kong-prefix", prefix}, args...)...)
	s.cmd.Env = append([]string{}, env...)
	s.cmd.Stdout = pw
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		os.RemoveAll(prefix)
		t.Fatalf("kongwire: starting %s: %v", bin, err)
	}
	pw.Close()
	go func() {
		defer close(s.outDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.outMu.Lock()
			s.output = append(s.output, sc.Text())
			s.outMu.Unlock()
		}
		pr.Close()
	}()
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.mu.Lock()
		s.closed = true
		for _, c := range s.pool {
			c.Close()
		}
		s.pool = nil
		s.mu.Unlock()
		died := s.Exited() && !s.crashExpected.Load()
		_ = s.cmd.Process.Kill()
		<-s.exited
		select {
		case <-s.outDone:
		case <-time.After(2 * time.Second):
		}
		s.checkHealthy(t, died)
		if t.Failed() {
			t.Logf("kongwire: plugin process output (%s):\n%s", filepath.Base(bin), strings.Join(s.ProcessOutput(), "\n"))
		}
		os.RemoveAll(prefix)
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.exited:
			<-s.outDone
			t.Fatalf("kongwire: %s exited before listening (%v):\n%s", bin, s.exitErr, strings.Join(s.ProcessOutput(), "\n"))
		default:
		}
		if c, err := net.Dial("unix", s.SocketPath); err == nil {
			s.putConn(c)
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("kongwire: %s did not listen on %s within 10s:\n%s", bin, s.SocketPath, strings.Join(s.ProcessOutput(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ProcessOutput returns the plugin process's stdout+stderr lines so far
// (what Kong logs at info level as "[<name>:<pid>] <line>", §4.1), e.g.
// go-pdk's "Listening on socket", "closed instance N" and panic stacks.
func (s *Server) ProcessOutput() []string {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return append([]string(nil), s.output...)
}

// Process-output markers of the failures no test may tolerate: a data race
// seen by a plugin built with -race, a Go runtime fatal error (e.g.
// "concurrent map writes", which recover() cannot catch) and an unrecovered
// panic. Each would kill a plugin process in production and every request
// in flight on it.
var fatalMarkers = []string{"WARNING: DATA RACE", "fatal error:", "panic:"}

// checkHealthy fails the test when the plugin process died before the
// harness killed it, or printed one of fatalMarkers: every test built on
// Start therefore catches races and crashes in the plugin, not only the
// tests written to look for them.
func (s *Server) checkHealthy(t testing.TB, died bool) {
	t.Helper()
	if died {
		t.Errorf("kongwire: the plugin process %s died during the test (%v)", filepath.Base(s.Bin), s.exitErr)
	}
	if s.crashExpected.Load() {
		return
	}
	for _, line := range s.ProcessOutput() {
		for _, m := range fatalMarkers {
			if strings.Contains(line, m) {
				t.Errorf("kongwire: the plugin process %s printed %q: %s", filepath.Base(s.Bin), m, line)
				return
			}
		}
	}
}

// ExpectCrash is for the few tests that crash the plugin process on
// purpose: its death and its panic output no longer fail the test.
func (s *Server) ExpectCrash() { s.crashExpected.Store(true) }

// Exited reports whether the plugin process has terminated (a handler
// panic kills it: go-pdk has no recover(), §2.4).
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// SetConsumers replaces Kong's consumer table.
func (s *Server) SetConsumers(cs ...Consumer) {
	s.mu.Lock()
	s.Consumers = append([]Consumer(nil), cs...)
	s.mu.Unlock()
}

func (s *Server) findConsumer(match func(*Consumer) bool) *Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.Consumers {
		if match(&s.Consumers[i]) {
			c := s.Consumers[i]
			c.Tags = append([]string(nil), c.Tags...)
			return &c
		}
	}
	return nil
}

func (s *Server) timeout() time.Duration {
	if s.EventTimeout > 0 {
		return s.EventTimeout
	}
	return DefaultEventTimeout
}

// getConn returns a pooled connection or dials a new one (Kong's cosocket
// keepalive pool, §3.4).
func (s *Server) getConn() (net.Conn, error) {
	s.mu.Lock()
	if n := len(s.pool); n > 0 {
		c := s.pool[n-1]
		s.pool = s.pool[:n-1]
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	return net.Dial("unix", s.SocketPath)
}

// putConn returns a connection after a normally ended call (c:setkeepalive()).
func (s *Server) putConn(c net.Conn) {
	_ = c.SetDeadline(time.Time{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return
	}
	s.pool = append(s.pool, c)
}

// errClosed is what Kong reports when the plugin closes the connection
// instead of answering (go-pdk has no error frame, §2.3).
var errClosed = errors.New("closed")

// call sends one RpcCall without a bridge loop and returns its RpcReturn.
func (s *Server) call(rc *kpp.RpcCall) (*kpp.RpcReturn, error) {
	c, err := s.getConn()
	if err != nil {
		return nil, fmt.Errorf("trying to connect: %w", err)
	}
	rc.Sequence = s.msgID.Add(1)
	_ = c.SetDeadline(time.Now().Add(s.timeout()))
	data, err := proto.Marshal(rc)
	if err == nil {
		err = writeFrame(c, data)
	}
	var frame []byte
	if err == nil {
		frame, err = readFrame(c)
	}
	if err != nil {
		c.Close()
		return nil, connErr(err)
	}
	var ret kpp.RpcReturn
	if err := proto.Unmarshal(frame, &ret); err != nil {
		c.Close()
		return nil, fmt.Errorf("decoding RpcReturn: %w", err)
	}
	if ret.Sequence != rc.Sequence {
		c.Close()
		return nil, fmt.Errorf("RpcReturn sequence %d, want %d", ret.Sequence, rc.Sequence)
	}
	s.putConn(c)
	return &ret, nil
}

func connErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timeout")
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe") {
		return errClosed
	}
	return err
}

// Instance is a plugin instance started with CmdStartInstance (§2.1, §2.2).
type Instance struct {
	Server *Server
	// ID is the instance id returned by the plugin (go-pdk uses __seq__).
	ID int32
	// Seq is the __seq__ sent; RouteID/PluginID the ids sent as route_id and
	// __plugin_id.
	Seq               int64
	RouteID, PluginID string
	// Config is exactly the table JSON-encoded into CmdStartInstance.
	Config map[string]any
}

// StartInstance is TryStartInstance that fails the test (t.Fatalf) on error.
func (s *Server) StartInstance(t testing.TB, cfg map[string]any) *Instance {
	t.Helper()
	inst, err := s.TryStartInstance(cfg)
	if err != nil {
		t.Fatalf("kongwire: starting instance of %s: %v", s.Info.Plugins[0].Name, err)
	}
	return inst
}

// TryStartInstance normalizes cfg with the dumped schema (Normalize:
// Kong's defaults and validation), resolves the vault references of
// referenceable fields from KongEnv, adds
// what Kong's plugins iterator adds (§2.1): "__seq__" (unique, increasing
// across the Server), "__key__" ("plugins:<name>:<route_id>:::<ws>"),
// "__plugin_id", "__ws_id" and "route_id" (the plugin is route-scoped), and
// sends CmdStartInstance{name, config JSON}. A config the plugin cannot
// decode makes go-pdk close the connection: the error then mentions
// "closed", which Kong logs as "starting instance: closed" and answers 500.
func (s *Server) TryStartInstance(cfg map[string]any) (*Instance, error) {
	norm, err := s.Schema.Normalize(cfg)
	if err != nil {
		return nil, err
	}
	s.Schema.Resolve(norm, kongschema.EnvVault(s.KongEnv))
	name := s.Info.Plugins[0].Name
	inst := &Instance{
		Server:   s,
		Seq:      s.seq.Add(1),
		RouteID:  newUUID(),
		PluginID: newUUID(),
	}
	norm["__seq__"] = inst.Seq
	norm["__key__"] = fmt.Sprintf("plugins:%s:%s:::%s", name, inst.RouteID, s.WorkspaceID)
	norm["__plugin_id"] = inst.PluginID
	norm["__ws_id"] = s.WorkspaceID
	norm["route_id"] = inst.RouteID
	inst.Config = norm
	js, err := json.Marshal(norm)
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	ret, err := s.call(&kpp.RpcCall{Call: &kpp.RpcCall_CmdStartInstance{
		CmdStartInstance: &kpp.CmdStartInstance{Name: name, Config: js},
	}})
	if err != nil {
		if errors.Is(err, errClosed) {
			return nil, fmt.Errorf("starting instance: closed (the plugin rejected the config; see ProcessOutput: %s)", s.lastOutput())
		}
		return nil, fmt.Errorf("starting instance: %w", err)
	}
	st := ret.GetInstanceStatus()
	if st == nil {
		return nil, errors.New("starting instance: RpcReturn without instance_status")
	}
	inst.ID = st.InstanceId
	return inst, nil
}

// CloseInstance sends CmdCloseInstance (what Kong does after a config
// change, §2.2). Beware go-pdk's purge: closing any instance also drops
// every instance started more than 60 s ago.
func (s *Server) CloseInstance(t testing.TB, inst *Instance) {
	t.Helper()
	_, err := s.call(&kpp.RpcCall{Call: &kpp.RpcCall_CmdCloseInstance{
		CmdCloseInstance: &kpp.CmdCloseInstance{InstanceId: inst.ID},
	}})
	if err != nil {
		t.Errorf("kongwire: closing instance %d: %v", inst.ID, err)
	}
}

func (s *Server) lastOutput() string {
	// Give the plugin a moment to write its log line about the failure.
	time.Sleep(50 * time.Millisecond)
	out := s.ProcessOutput()
	if len(out) > 5 {
		out = out[len(out)-5:]
	}
	return strings.Join(out, " | ")
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Pid is the plugin process's id (tests that watch it from outside:
// /proc/<pid>/fd).
func (s *Server) Pid() int { return s.cmd.Process.Pid }
