package kongwire

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// Request is the client request as Kong sees it. Zero fields get defaults:
// Method GET, Scheme http, Host "kong.test", Path "/", ClientIP 127.0.0.1,
// Port 8000 (8443 for https).
//
// Reusing the same *Request for Access, Response and Log of one request
// shares ngx.ctx across them, as Kong does: kong.ctx.shared, the
// serialize values, response headers set earlier, and the consumer and
// credential from kong.client.authenticate.
type Request struct {
	Method, Scheme, Host, Path, RawQuery string
	Port                                 int
	Headers                              http.Header
	Body                                 []byte
	ClientIP                             string
	// Credential and Consumer are what an earlier auth plugin authenticated
	// (kong.client.get_credential / get_consumer return them).
	Credential *Credential
	Consumer   *Consumer
}

func (r *Request) withDefaults() Request {
	c := *r
	if c.Method == "" {
		c.Method = "GET"
	}
	if c.Scheme == "" {
		c.Scheme = "http"
	}
	if c.Host == "" {
		c.Host = "kong.test"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.ClientIP == "" {
		c.ClientIP = "127.0.0.1"
	}
	if c.Port == 0 {
		c.Port = 8000
		if c.Scheme == "https" {
			c.Port = 8443
		}
	}
	if c.Headers == nil {
		c.Headers = http.Header{}
	}
	return c
}

// Upstream is the response of the proxied service (Response phase), or the
// response the client got (Log phase).
type Upstream struct {
	Status  int
	Headers http.Header
	Body    []byte
}

// LogLine is one kong.log.<level>(...) call: the args concatenated with no
// separator, like ngx.log (§4.2).
type LogLine struct {
	Level   string // "alert", "crit", "err", "warn", "notice", "info", "debug"
	Message string
}

// Result is what one event produced.
type Result struct {
	// Exited is set when the plugin called kong.response.exit; Status, Body
	// and Headers are then the response Kong sends (headers set earlier with
	// kong.response.set_header/add_header included). Without exit, Status is
	// what kong.response.set_status set (0 otherwise) in access, and the
	// upstream's answer in the response/log phases; Headers are the response
	// headers as modified by kong.response.* (plus the upstream's in the
	// response phase). A protocol error (Err) sets Status 500.
	Exited  bool
	Status  int
	Body    []byte
	Headers http.Header

	// The request as the upstream sees it after kong.service.request.*.
	UpstreamMethod  string
	UpstreamPath    string
	UpstreamHeaders http.Header
	UpstreamQuery   string
	UpstreamBody    []byte

	// From kong.client.authenticate.
	Authenticated  bool
	AuthConsumer   *Consumer
	AuthCredential *Credential

	Logs []LogLine
	// Serialize is the kong.log.set_serialize_value table of the request
	// (cumulative across the phases of one *Request); dotted keys create
	// nested maps; a nil or Go-false value deletes the key (§3.7).
	Serialize map[string]any
	// Shared is kong.ctx.shared after the event.
	Shared map[string]any

	// Calls lists the PDK methods the plugin called, in order (including a
	// final kong.response.exit, which Kong never answers).
	Calls []string
	// Err is a protocol error: "closed" (plugin crashed or closed the
	// connection), "timeout", `method "x" not found`, "lua error: ...".
	Err error
	// Phase is the event's phase ("access", "response", ...).
	Phase string
	// RejectedByNginx is set when nginx itself refuses the request before
	// Kong runs any plugin (Status 400, plain-text body): the plugin was
	// not called. See nginxRejects.
	RejectedByNginx bool
	// ProcessOutput is the plugin's output when the event ended with
	// "closed" and the process died (e.g. a panic stack).
	ProcessOutput []string

	roundTrips, batches int
}

// RoundTrips returns the number of PDK round trips the event cost: how many
// times Kong answered calls and then had to wait for the plugin's next
// frame. Calls the plugin writes together (a batch, or deferred calls)
// cost one; the batch that ends the event or exits costs none, since no
// one waits after it. A stock go-pdk plugin pays one per call. The
// CmdHandleEvent call itself is not counted (§3.3: add one per event).
func (r *Result) RoundTrips() int { return r.roundTrips }

// Batches returns how many separate arrivals of frames from the plugin
// Kong read during the event (about the plugin's write syscalls: go-pdk
// writes each frame in two, the project's server a whole batch in one).
func (r *Result) Batches() int { return r.batches }

// Header returns the first value of a response header.
func (r *Result) Header(name string) string { return r.Headers.Get(name) }

// reqCtx is ngx.ctx of one request, shared by its phases.
type reqCtx struct {
	mu         sync.Mutex // held for a whole event: phases of a request are sequential
	shared     map[string]any
	serialize  map[string]any
	respHdr    http.Header // headers set by kong.response.* before the response exists
	respStatus int
	authCons   *Consumer
	authCred   *Credential
	authed     bool
}

func (s *Server) ctxFor(r *Request) *reqCtx {
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := s.ctxs[r]
	if rc == nil {
		rc = &reqCtx{shared: map[string]any{}, serialize: map[string]any{}, respHdr: http.Header{}}
		s.ctxs[r] = rc
	}
	return rc
}

// event is the Kong-side state of one CmdHandleEvent.
type event struct {
	t     testing.TB
	s     *Server
	inst  *Instance
	phase string
	req   Request
	up    *Upstream
	rc    *reqCtx
	res   *Result

	// upstream request copy
	upMethod, upPath, upQuery, upScheme string
	upHeaders                           http.Header
	upBody                              []byte

	// cleanup runs when the event ends (spooled request bodies).
	cleanup []func()

	// current response (response/log phases start from up)
	status  int
	headers http.Header
	body    []byte
}

// Access runs the plugin's access handler (CmdHandleEvent "access") and
// serves its PDK calls with Kong's semantics (§3.2, §3.5, §3.6).
func (inst *Instance) Access(t testing.TB, req *Request) *Result {
	t.Helper()
	return inst.Event(t, "access", req, nil)
}

// Rewrite runs the "rewrite" handler.
func (inst *Instance) Rewrite(t testing.TB, req *Request) *Result {
	t.Helper()
	return inst.Event(t, "rewrite", req, nil)
}

// Response runs the "response" handler with up as the upstream's answer
// (buffered proxying, §3.3).
func (inst *Instance) Response(t testing.TB, req *Request, up *Upstream) *Result {
	t.Helper()
	return inst.Event(t, "response", req, up)
}

// Log runs the "log" handler; resp is the response the client got (nil:
// 200). Only the calls Kong serves from saved data work (§3.5): the rest
// raise a Lua error, which fails the test.
func (inst *Instance) Log(t testing.TB, req *Request, resp *Upstream) *Result {
	t.Helper()
	return inst.Event(t, "log", req, resp)
}

// Event sends CmdHandleEvent{instance, phase} and serves the bridge loop
// until the plugin ends the event (empty frame + RpcReturn), exits
// (kong.response.exit: never answered; the connection is closed at the end
// of the request), errors, or EventTimeout passes.
func (inst *Instance) Event(t testing.TB, phase string, req *Request, up *Upstream) *Result {
	t.Helper()
	if req == nil {
		req = &Request{}
	}
	s := inst.Server
	rc := s.ctxFor(req)
	rc.mu.Lock()
	defer rc.mu.Unlock()

	if reason := nginxRejects(req); reason != "" && (phase == "access" || phase == "rewrite") {
		return &Result{
			RejectedByNginx: true, Status: http.StatusBadRequest,
			Headers: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
			Body:    []byte("Bad request\nrequest_id: 00000000000000000000000000000000\n"),
			Logs:    []LogLine{{Level: "info", Message: reason}},
		}
	}
	e := &event{t: t, s: s, inst: inst, phase: phase, req: req.withDefaults(), up: up, rc: rc, res: &Result{}}
	e.upMethod, e.upPath, e.upQuery, e.upScheme = e.req.Method, e.req.Path, e.req.RawQuery, e.req.Scheme
	e.upHeaders = e.req.Headers.Clone()
	e.upBody = append([]byte(nil), e.req.Body...)
	e.headers = rc.respHdr.Clone()
	e.status = rc.respStatus
	if up != nil && (phase == "response" || phase == "log") {
		e.status = up.Status
		h := up.Headers.Clone()
		if h == nil {
			h = http.Header{}
		}
		for k, v := range rc.respHdr {
			h[k] = append([]string(nil), v...)
		}
		e.headers = h
		e.body = append([]byte(nil), up.Body...)
	} else if phase == "log" && e.status == 0 {
		e.status = 200
	}

	e.run()
	for _, f := range e.cleanup {
		f()
	}

	r := e.res
	r.Phase = phase
	if !r.Exited && r.Err == nil {
		r.Status = e.status
		r.Body = e.body
		r.Headers = e.headers
		if phase == "access" || phase == "rewrite" {
			rc.respHdr = e.headers.Clone()
			rc.respStatus = e.status
		}
	}
	if r.Headers == nil {
		r.Headers = http.Header{}
	}
	r.UpstreamMethod, r.UpstreamPath, r.UpstreamQuery = e.upMethod, e.upPath, e.upQuery
	r.UpstreamHeaders, r.UpstreamBody = e.upHeaders, e.upBody
	r.Authenticated, r.AuthConsumer, r.AuthCredential = rc.authed, rc.authCons, rc.authCred
	r.Serialize = deepCopyMap(rc.serialize)
	r.Shared = deepCopyMap(rc.shared)
	return r
}

// nginxRejects returns why nginx answers 400 to req before any Kong phase
// runs, or "". Authorization is one of nginx's unique request headers
// (ngx_http_process_unique_header_line): a second one is "client sent
// duplicate header line" and a 400 from nginx, so a plugin never sees two
// Authorization headers (observed in Kong 3.9.3, docs/kong-behaviour.md).
func nginxRejects(req *Request) string {
	if req.Headers != nil && len(req.Headers.Values("Authorization")) > 1 {
		return `client sent duplicate header line: "Authorization: ..."`
	}
	return ""
}

// buffered reports whether Kong proxies this plugin's requests buffered:
// it does for every request a plugin with a Response handler is
// configured on (kong/runloop/plugins_iterator.lua, kong/init.lua
// Kong.response: ngx.location.capture of /kong_buffered_http).
func (e *event) buffered() bool {
	for _, p := range e.s.Info.Plugins[0].Phases {
		if p == "response" {
			return true
		}
	}
	return false
}

// luaError is a Lua error raised by a PDK function: Kong does not catch it
// (call_pdk has no pcall, §3.5) so the request gets a 500 and the Go side
// never gets an answer.
type luaError struct{ msg string }

func (e *luaError) Error() string { return "lua error: " + e.msg }

// errExit marks kong.response.exit, which Kong never answers (§3.5).
var errExit = errors.New("exit")

func (e *event) run() {
	s := e.s
	c, err := s.getConn()
	if err != nil {
		e.fail(fmt.Errorf("trying to connect: %w", err), true)
		return
	}
	_ = c.SetDeadline(time.Now().Add(s.timeout()))
	seq := s.msgID.Add(1)
	data, _ := proto.Marshal(&kpp.RpcCall{Sequence: seq, Call: &kpp.RpcCall_CmdHandleEvent{
		CmdHandleEvent: &kpp.CmdHandleEvent{InstanceId: e.inst.ID, EventName: e.phase},
	}})
	if err := writeFrame(c, data); err != nil {
		e.connFailed(c, err)
		return
	}
	// A bufio.Reader shows which frames arrived together: a read that finds
	// nothing buffered starts a new batch (Kong's cosocket waits).
	br := bufio.NewReaderSize(c, 64<<10)
	counted := false
	newBatch := func() {
		if br.Buffered() == 0 {
			e.res.batches++
			e.res.roundTrips++
			counted = true
		}
	}
	for {
		newBatch()
		name, err := readFrame(br)
		if err != nil {
			e.connFailed(c, err)
			return
		}
		if len(name) == 0 {
			if counted {
				e.res.roundTrips-- // the end of the event: no one waits
			}
			break
		}
		if string(name) == "kong.response.exit" && counted {
			e.res.roundTrips-- // never answered: no one waits
			counted = false
		}
		args, err := readFrame(br)
		if err != nil {
			e.connFailed(c, err)
			return
		}
		method := string(name)
		e.res.Calls = append(e.res.Calls, method)
		reply, err := e.dispatch(method, args)
		switch {
		case errors.Is(err, errExit):
			// Kong yields the coroutine and closes the socket when the
			// request ends; go-pdk's Exit then returns and closes too.
			c.Close()
			return
		case err != nil:
			c.Close()
			e.fail(err, true)
			return
		}
		var out []byte
		if reply != nil {
			out, err = marshalReply(reply) // lenient.go: strings need not be UTF-8, as in Kong
			if err != nil {
				c.Close()
				e.fail(fmt.Errorf("encoding reply of %s: %w", method, err), true)
				return
			}
		}
		if err := writeFrame(c, out); err != nil {
			e.connFailed(c, err)
			return
		}
	}
	frame, err := readFrame(br)
	if err != nil {
		e.connFailed(c, err)
		return
	}
	if br.Buffered() != 0 {
		c.Close()
		e.fail(fmt.Errorf("%d bytes after the RpcReturn", br.Buffered()), true)
		return
	}
	var ret kpp.RpcReturn
	if err := proto.Unmarshal(frame, &ret); err != nil || ret.Sequence != seq {
		c.Close()
		e.fail(fmt.Errorf("bad RpcReturn after event (err %v, sequence %d, want %d)", err, ret.Sequence, seq), true)
		return
	}
	s.putConn(c)
}

// connFailed handles a read/write error on the event connection: "closed"
// (plugin crashed or rejected the event, e.g. "no plugin instance") is
// recorded without failing the test; a timeout fails it.
func (e *event) connFailed(c net.Conn, err error) {
	c.Close()
	err = connErr(err)
	if errors.Is(err, errClosed) {
		// Wait briefly for a dying process to finish writing its stack.
		select {
		case <-e.s.exited:
			select {
			case <-e.s.outDone:
			case <-time.After(2 * time.Second):
			}
			e.res.ProcessOutput = e.s.ProcessOutput()
		case <-time.After(100 * time.Millisecond):
		}
		e.fail(errClosed, false)
		return
	}
	e.fail(err, true)
}

// fail records a protocol error the way Kong 3.8+ answers it: 500.
func (e *event) fail(err error, report bool) {
	e.res.Err = err
	e.res.Status = 500
	e.res.Body = []byte(`{"message":"An unexpected error occurred"}`)
	e.res.Headers = http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	if report {
		e.t.Errorf("kongwire: %s phase of %s: %v (Kong answers 500; calls so far: %s)",
			e.phase, e.s.Info.Plugins[0].Name, err, strings.Join(e.res.Calls, ", "))
	}
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = deepCopy(x[i])
		}
		return out
	}
	return v
}
