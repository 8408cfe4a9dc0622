package kongwire

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// pdkMethod is one entry of Kong's rpc_service table (pb_rpc.lua
// load_service): the Lua function behind a method name of the proto
// `service Kong` (kong-go-plugins.md §3.6).
type pdkMethod struct {
	// phases lists where Kong's check_phase allows the call; nil = any phase.
	phases []string
	// noLog marks calls that read ngx.var/ngx.req, which fail in the log
	// phase because it runs in a timer (§3.5).
	noLog bool
	fn    func(e *event, args []byte) (proto.Message, error)
}

var (
	phasesRewriteAccess = []string{"rewrite", "access"}
	phasesBeforeLog     = []string{"rewrite", "access", "response"}
	phasesAfterProxy    = []string{"response", "log"}
)

var pdkMethods map[string]pdkMethod

func init() {
	m := map[string]pdkMethod{}
	add := func(name string, fn func(*event, []byte) (proto.Message, error)) { m[name] = pdkMethod{fn: fn} }
	addP := func(name string, phases []string, noLog bool, fn func(*event, []byte) (proto.Message, error)) {
		m[name] = pdkMethod{phases: phases, noLog: noLog, fn: fn}
	}
	str := func(f func(e *event) string) func(*event, []byte) (proto.Message, error) {
		return func(e *event, _ []byte) (proto.Message, error) { return &kpp.String{V: f(e)}, nil }
	}
	intv := func(f func(e *event) int) func(*event, []byte) (proto.Message, error) {
		return func(e *event, _ []byte) (proto.Message, error) { return &kpp.Int{V: int32(f(e))}, nil }
	}

	// kong.client
	addP("kong.client.get_ip", nil, true, str(func(e *event) string { return e.req.ClientIP }))
	addP("kong.client.get_forwarded_ip", nil, true, str(func(e *event) string { return e.req.ClientIP }))
	addP("kong.client.get_port", nil, true, intv(func(e *event) int { return 54321 }))
	addP("kong.client.get_forwarded_port", nil, true, intv(func(e *event) int { return 54321 }))
	addP("kong.client.get_protocol", nil, true, str(func(e *event) string { return e.req.Scheme }))
	add("kong.client.get_credential", func(e *event, _ []byte) (proto.Message, error) {
		cred := e.req.Credential
		if e.rc.authed {
			cred = e.rc.authCred
		}
		if cred == nil {
			return &kpp.AuthenticatedCredential{}, nil
		}
		return &kpp.AuthenticatedCredential{Id: cred.ID, ConsumerId: cred.ConsumerID}, nil
	})
	add("kong.client.get_consumer", func(e *event, _ []byte) (proto.Message, error) {
		c := e.req.Consumer
		if e.rc.authed {
			c = e.rc.authCons
		}
		return consumerMsg(c), nil
	})
	addP("kong.client.load_consumer", []string{"access", "response", "log"}, false, loadConsumer)
	addP("kong.client.authenticate", []string{"access"}, false, authenticate)

	// kong.ctx.shared
	add("kong.ctx.shared.set", func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if v := luaFromValue(kv.V); v != nil {
			e.rc.shared[kv.K] = v
		} else {
			delete(e.rc.shared, kv.K)
		}
		return nil, nil
	})
	add("kong.ctx.shared.get", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return valueFromLua(e.rc.shared[k.V]), nil
	})

	// kong.ip
	add("kong.ip.is_trusted", func(e *event, _ []byte) (proto.Message, error) { return &kpp.Bool{V: false}, nil })

	// kong.log
	for _, lvl := range []string{"alert", "crit", "err", "warn", "notice", "info", "debug"} {
		add("kong.log."+lvl, func(e *event, args []byte) (proto.Message, error) {
			var l structpb.ListValue
			if err := decode(args, &l); err != nil {
				return nil, err
			}
			var b strings.Builder
			for _, v := range l.Values {
				b.WriteString(luaToString(luaFromValue(v)))
			}
			e.res.Logs = append(e.res.Logs, LogLine{Level: lvl, Message: b.String()})
			return nil, nil
		})
	}
	add("kong.log.set_serialize_value", func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if kv.K == "" {
			return nil, &luaError{"key must be a string"}
		}
		setDotted(e.rc.serialize, kv.K, luaFromValue(kv.V))
		return nil, nil
	})
	addP("kong.log.serialize", []string{"log"}, false, func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.String{V: e.serialize()}, nil
	})

	// kong.nginx
	addP("kong.nginx.get_var", nil, true, func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: e.ngxVar(k.V)}, nil
	})
	add("kong.nginx.get_tls1_version_str", str(func(e *event) string {
		if e.req.Scheme == "https" {
			return "TLSv1.3"
		}
		return ""
	}))
	add("kong.nginx.get_subsystem", str(func(e *event) string { return "http" }))
	add("kong.nginx.req_start_time", func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.Number{V: float64(time.Now().UnixMilli()) / 1000}, nil
	})
	add("kong.nginx.set_ctx", func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if v := luaFromValue(kv.V); v != nil {
			e.rc.shared["\x00ngx."+kv.K] = v
		} else {
			delete(e.rc.shared, "\x00ngx."+kv.K)
		}
		return nil, nil
	})
	add("kong.nginx.get_ctx", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return valueFromLua(e.rc.shared["\x00ngx."+k.V]), nil
	})

	// kong.node
	add("kong.node.get_id", str(func(e *event) string { return e.s.NodeID }))
	add("kong.node.get_memory_stats", func(e *event, _ []byte) (proto.Message, error) { return &kpp.MemoryStats{}, nil })

	// kong.request
	addP("kong.request.get_scheme", nil, true, str(func(e *event) string { return e.req.Scheme }))
	addP("kong.request.get_host", nil, true, str(func(e *event) string { return e.req.Host }))
	addP("kong.request.get_port", nil, true, intv(func(e *event) int { return e.req.Port }))
	addP("kong.request.get_forwarded_scheme", nil, true, str(func(e *event) string { return e.req.Scheme }))
	addP("kong.request.get_forwarded_host", nil, true, str(func(e *event) string { return e.req.Host }))
	addP("kong.request.get_forwarded_port", nil, true, intv(func(e *event) int { return e.req.Port }))
	addP("kong.request.get_http_version", nil, true, func(e *event, _ []byte) (proto.Message, error) { return &kpp.Number{V: 1.1}, nil })
	addP("kong.request.get_method", nil, true, str(func(e *event) string { return e.req.Method }))
	addP("kong.request.get_path", nil, true, str(func(e *event) string { return e.req.Path }))
	addP("kong.request.get_path_with_query", nil, true, str(func(e *event) string {
		if e.req.RawQuery == "" {
			return e.req.Path
		}
		return e.req.Path + "?" + e.req.RawQuery
	}))
	addP("kong.request.get_raw_query", nil, true, str(func(e *event) string { return e.req.RawQuery }))
	addP("kong.request.get_query_arg", nil, true, func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		for _, kv := range parseQuery(e.req.RawQuery) {
			if kv.k == k.V {
				if s, ok := kv.v.(string); ok {
					return &kpp.String{V: s}, nil
				}
				return &kpp.String{}, nil
			}
		}
		return &kpp.String{}, nil
	})
	addP("kong.request.get_query", nil, true, func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_args")
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for i, kv := range parseQuery(e.req.RawQuery) {
			if i >= max {
				break
			}
			addMulti(out, kv.k, kv.v)
		}
		return structFromLua(out), nil
	})
	add("kong.request.get_header", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: headerGet(e.req.Headers, k.V)}, nil
	})
	add("kong.request.get_headers", func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_headers")
		if err != nil {
			return nil, err
		}
		return headersStruct(e.req.Headers, max), nil
	})
	addP("kong.request.get_raw_body", phasesBeforeLog, false, func(e *event, _ []byte) (proto.Message, error) {
		return e.rawBody() // body.go: a large body is spooled to a file, as nginx does
	})
	add("kong.request.get_uri_captures", func(e *event, _ []byte) (proto.Message, error) { return &kpp.UriCapturesResult{}, nil })

	// kong.response
	add("kong.response.get_status", intv(func(e *event) int { return e.status }))
	add("kong.response.get_header", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: headerGet(e.headers, k.V)}, nil
	})
	add("kong.response.get_headers", func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_headers")
		if err != nil {
			return nil, err
		}
		return headersStruct(e.headers, max), nil
	})
	add("kong.response.get_source", str(func(e *event) string {
		if e.phase == "response" || e.phase == "log" {
			return "service"
		}
		return "error"
	}))
	addP("kong.response.set_status", phasesBeforeLog, false, func(e *event, args []byte) (proto.Message, error) {
		var n kpp.Int
		if err := decode(args, &n); err != nil {
			return nil, err
		}
		if n.V < 100 || n.V > 599 {
			return nil, &luaError{"code must be a number between 100 and 599"}
		}
		e.status = int(n.V)
		return nil, nil
	})
	addP("kong.response.set_header", phasesBeforeLog, false, headerKV(func(e *event) http.Header { return e.headers }, false))
	addP("kong.response.add_header", phasesBeforeLog, false, headerKV(func(e *event) http.Header { return e.headers }, true))
	addP("kong.response.clear_header", phasesBeforeLog, false, clearHeader(func(e *event) http.Header { return e.headers }))
	addP("kong.response.set_headers", phasesBeforeLog, false, setHeaders(func(e *event) http.Header { return e.headers }))
	addP("kong.response.exit", phasesBeforeLog, false, func(e *event, args []byte) (proto.Message, error) {
		var x kpp.ExitArgs
		if err := decode(args, &x); err != nil {
			return nil, err
		}
		if x.Status < 100 || x.Status > 599 {
			return nil, &luaError{"code must be a number between 100 and 599"}
		}
		h := e.headers.Clone()
		for k, v := range x.Headers.GetFields() {
			vals := headerValues(luaFromValue(v))
			ck := textproto.CanonicalMIMEHeaderKey(k)
			switch {
			case len(vals) == 0:
				delete(h, ck)
			case ck == "Www-Authenticate" && len(vals) > 1:
				// Kong 3.9.3 sent only the last of several WWW-Authenticate
				// values given to exit (e2e TestSenderConstrained; see
				// docs/kong-behaviour.md): one header line per challenge
				// does not survive, several challenges must share one value.
				h[ck] = vals[len(vals)-1:]
			default:
				h[ck] = vals
			}
		}
		e.res.Exited = true
		e.res.Status = int(x.Status)
		e.res.Body = x.Body
		e.res.Headers = h
		return nil, errExit
	})

	// kong.router
	add("kong.router.get_route", func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.Route{
			Id: e.inst.RouteID, Name: "kongwire-route", Protocols: []string{"http", "https"},
			Paths: []string{"/"}, StripPath: true, HttpsRedirectStatusCode: 426,
			Service: &kpp.ServiceKey{Id: serviceID(e.inst)},
		}, nil
	})
	add("kong.router.get_service", func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.Service{
			Id: serviceID(e.inst), Name: "kongwire-service", Protocol: "http", Host: "upstream.test",
			Port: 80, Path: "/", Retries: 5, ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000,
		}, nil
	})

	// kong.service
	addP("kong.service.set_upstream", phasesRewriteAccess, false, func(e *event, _ []byte) (proto.Message, error) { return &kpp.Bool{V: true}, nil })
	addP("kong.service.set_target", phasesRewriteAccess, false, func(e *event, _ []byte) (proto.Message, error) { return nil, nil })
	strSetter := func(set func(e *event, v string)) func(*event, []byte) (proto.Message, error) {
		return func(e *event, args []byte) (proto.Message, error) {
			var s kpp.String
			if err := decode(args, &s); err != nil {
				return nil, err
			}
			set(e, s.V)
			return nil, nil
		}
	}
	addP("kong.service.request.set_scheme", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upScheme = v }))
	addP("kong.service.request.set_path", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upPath = v }))
	addP("kong.service.request.set_raw_query", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upQuery = v }))
	addP("kong.service.request.set_method", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upMethod = v }))
	addP("kong.service.request.set_query", phasesRewriteAccess, false, func(e *event, args []byte) (proto.Message, error) {
		var st structpb.Struct
		if err := decode(args, &st); err != nil {
			return nil, err
		}
		e.upQuery = encodeQuery(luaFromStruct(&st))
		return nil, nil
	})
	addP("kong.service.request.set_header", phasesRewriteAccess, false, escapingCTL(headerKV(func(e *event) http.Header { return e.upHeaders }, false)))
	addP("kong.service.request.add_header", phasesRewriteAccess, false, escapingCTL(headerKV(func(e *event) http.Header { return e.upHeaders }, true)))
	addP("kong.service.request.clear_header", phasesRewriteAccess, false, clearHeader(func(e *event) http.Header { return e.upHeaders }))
	addP("kong.service.request.set_headers", phasesRewriteAccess, false, escapingCTL(setHeaders(func(e *event) http.Header { return e.upHeaders })))
	addP("kong.service.request.set_raw_body", phasesRewriteAccess, false, func(e *event, args []byte) (proto.Message, error) {
		var b kpp.ByteString
		if err := decode(args, &b); err != nil {
			return nil, err
		}
		e.upBody = append([]byte{}, b.V...)
		e.upHeaders.Set("Content-Length", strconv.Itoa(len(b.V)))
		return nil, nil
	})

	// kong.service.response
	upstream := func(e *event) *Upstream {
		if e.up == nil {
			return &Upstream{}
		}
		return e.up
	}
	addP("kong.service.response.get_status", phasesAfterProxy, false, intv(func(e *event) int { return upstream(e).Status }))
	addP("kong.service.response.get_header", phasesAfterProxy, false, func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: headerGet(upstream(e).Headers, k.V)}, nil
	})
	addP("kong.service.response.get_headers", phasesAfterProxy, false, func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_headers")
		if err != nil {
			return nil, err
		}
		if e.buffered() {
			// With buffered proxying (any plugin with a Response handler)
			// Kong returns an empty table whose __index metamethod looks
			// names up (kong/pdk/service/response.lua:79-115,
			// attach_buffered_headers_mt), and pb_rpc's structpb_struct
			// encodes it with pairs(): the plugin gets an empty map.
			// Observed in Kong 3.9.3; get_header(name) still works.
			return &structpb.Struct{Fields: map[string]*structpb.Value{}}, nil
		}
		return headersStruct(upstream(e).Headers, max), nil
	})
	addP("kong.service.response.get_raw_body", []string{"response"}, false, func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.ByteString{V: append([]byte{}, upstream(e).Body...)}, nil
	})

	pdkMethods = m
}

// dispatch serves one PDK call like Kong's call_pdk.
func (e *event) dispatch(method string, args []byte) (proto.Message, error) {
	pm, ok := pdkMethods[method]
	if !ok {
		return nil, fmt.Errorf("method %q not found", method)
	}
	if pm.phases != nil && !contains(pm.phases, e.phase) {
		return nil, &luaError{fmt.Sprintf("%s: function cannot be called in %s phase", method, e.phase)}
	}
	if pm.noLog && e.phase == "log" {
		return nil, &luaError{fmt.Sprintf("%s: API disabled in the current context (log phase runs in a timer)", method)}
	}
	return pm.fn(e, args)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode decodes PDK call args; Kong asserts on a decode failure.
func decode(args []byte, m proto.Message) error {
	if err := proto.Unmarshal(args, m); err != nil {
		return &luaError{fmt.Sprintf("decoding %T: %v", m, err)}
	}
	return nil
}

func maxArg(args []byte, name string) (int, error) {
	var n kpp.Int
	if err := decode(args, &n); err != nil {
		return 0, err
	}
	if n.V < 1 {
		return 0, &luaError{name + " must be >= 1"}
	}
	if n.V > 1000 {
		return 0, &luaError{name + " must be <= 1000"}
	}
	return int(n.V), nil
}

var uuidRE = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// loadConsumer is kong.client.load_consumer (K3.9.1:kong/pdk/client.lua).
func loadConsumer(e *event, args []byte) (proto.Message, error) {
	var spec kpp.ConsumerSpec
	if err := decode(args, &spec); err != nil {
		return nil, err
	}
	isUUID := uuidRE.MatchString(spec.Id)
	if !isUUID && !spec.ByUsername {
		return nil, &luaError{"cannot load a consumer with an id that is not a uuid"}
	}
	if isUUID {
		if c := e.s.findConsumer(func(c *Consumer) bool { return strings.EqualFold(c.ID, spec.Id) }); c != nil {
			return consumerMsg(c), nil
		}
	}
	if spec.ByUsername {
		if c := e.s.findConsumer(func(c *Consumer) bool { return c.Username == spec.Id }); c != nil {
			return consumerMsg(c), nil
		}
	}
	return &kpp.Consumer{}, nil
}

// authenticate is kong.client.authenticate: it stores the decoded tables as
// ngx.ctx.authenticated_consumer/credential; it sets no upstream headers.
func authenticate(e *event, args []byte) (proto.Message, error) {
	var a kpp.AuthenticateArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if a.Consumer == nil && a.Credential == nil {
		return nil, &luaError{"either credential or consumer must be provided"}
	}
	e.rc.authed = true
	e.rc.authCons, e.rc.authCred = nil, nil
	if c := a.Consumer; c != nil {
		e.rc.authCons = &Consumer{ID: c.Id, Username: c.Username, CustomID: c.CustomId, CreatedAt: c.CreatedAt, Tags: c.Tags}
	}
	if c := a.Credential; c != nil {
		e.rc.authCred = &Credential{ID: c.Id, ConsumerID: c.ConsumerId}
	}
	return nil, nil
}

func consumerMsg(c *Consumer) *kpp.Consumer {
	if c == nil {
		return &kpp.Consumer{}
	}
	return &kpp.Consumer{Id: c.ID, CreatedAt: c.CreatedAt, Username: c.Username, CustomId: c.CustomID, Tags: c.Tags}
}

func serviceID(inst *Instance) string {
	// Deterministic per instance: the route's service.
	return "5e7f1c3a-0000-4000-8000-" + strings.ReplaceAll(inst.RouteID, "-", "")[:12]
}

// headerGet is kong.request.get_header: case-insensitive, '_' matches '-',
// first value, "" when missing (Lua nil → empty String).
func headerGet(h http.Header, name string) string {
	name = strings.ReplaceAll(name, "_", "-")
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// headersStruct is get_headers(max): lower-cased names, a string for one
// value, a list for several, at most max header lines.
func headersStruct(h http.Header, max int) *structpb.Struct {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]any{}
	n := 0
	for _, k := range keys {
		for _, v := range h[k] {
			if n >= max {
				break
			}
			addMulti(out, strings.ToLower(k), v)
			n++
		}
	}
	return structFromLua(out)
}

func addMulti(m map[string]any, k string, v any) {
	switch old := m[k].(type) {
	case nil:
		m[k] = v
	case []any:
		m[k] = append(old, v)
	default:
		m[k] = []any{old, v}
	}
}

type queryKV struct {
	k string
	v any // string, or true for an arg without '='
}

// parseQuery parses a raw query like ngx.req.get_uri_args.
func parseQuery(raw string) []queryKV {
	var out []queryKV
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		if k == "" {
			continue
		}
		if !hasEq {
			out = append(out, queryKV{k, true})
			continue
		}
		v, _ = url.QueryUnescape(v)
		out = append(out, queryKV{k, v})
	}
	return out
}

// encodeQuery is ngx.encode_args as used by set_query: keys sorted, values
// in order, true → bare key, spaces as %20.
func encodeQuery(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var parts []string
	emit := func(k string, v any) {
		switch x := v.(type) {
		case bool:
			if x {
				parts = append(parts, esc(k))
			}
		case nil:
		default:
			parts = append(parts, esc(k)+"="+esc(luaToString(x)))
		}
	}
	for _, k := range keys {
		if list, ok := m[k].([]any); ok {
			for _, v := range list {
				emit(k, v)
			}
		} else {
			emit(k, m[k])
		}
	}
	return strings.Join(parts, "&")
}

// escapingCTL models what ngx.req.set_header does with control characters
// in a request header value (seen in Kong 3.9.3, OpenResty 1.25.3.2): it
// neither refuses nor drops them but percent-escapes them, so the upstream
// gets "a%0D%0AX-Evil: 1" for "a\r\nX-Evil: 1" (HTAB is kept). Only the
// headers the call set are escaped; what the client sent is forwarded as is.
func escapingCTL(fn func(*event, []byte) (proto.Message, error)) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		before := e.upHeaders.Clone()
		m, err := fn(e, args)
		for k, vals := range e.upHeaders {
			if slices.Equal(vals, before[k]) {
				continue
			}
			for i, v := range vals {
				vals[i] = escapeCTL(v)
			}
		}
		return m, err
	}
}

func escapeCTL(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func headerKV(target func(*event) http.Header, add bool) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if kv.K == "" {
			return nil, &luaError{"invalid header name \"\": got string, expected non-empty string"}
		}
		v := luaFromValue(kv.V)
		if v == nil {
			return nil, &luaError{fmt.Sprintf("invalid header value for %q: got nil, expected array of string, string, number or boolean", kv.K)}
		}
		h := target(e)
		vals := headerValues(v)
		ck := textproto.CanonicalMIMEHeaderKey(kv.K)
		switch {
		case add:
			h[ck] = append(h[ck], vals...)
		case len(vals) == 0:
			delete(h, ck) // set_header(name, {}): ngx removes the header
		default:
			h[ck] = vals
		}
		return nil, nil
	}
}

func clearHeader(target func(*event) http.Header) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		target(e).Del(k.V)
		return nil, nil
	}
}

// setHeaders: a Struct of string or list values; an empty list removes the
// header, an empty string sets it to " " (headerValues).
func setHeaders(target func(*event) http.Header) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		var st structpb.Struct
		if err := decode(args, &st); err != nil {
			return nil, err
		}
		h := target(e)
		for k, v := range st.Fields {
			vals := headerValues(luaFromValue(v))
			ck := textproto.CanonicalMIMEHeaderKey(k)
			if len(vals) == 0 {
				delete(h, ck)
			} else {
				h[ck] = vals
			}
		}
		return nil, nil
	}
}

// headerValues is a header value after Kong's normalize_multi_header
// (kong/pdk/private/checks.lua:13-30), which every kong.service.request.*
// and kong.response.* header setter applies: an empty string becomes " ",
// so setting "" never removes a header, the upstream gets it present and
// empty (observed in Kong 3.9.3). An empty list (an empty Lua table, which
// may arrive as a struct) yields no values: ngx.req.set_header(name, {})
// and ngx.header[name] = {} remove the header.
func headerValues(v any) []string {
	one := func(s string) string {
		if s == "" {
			return " "
		}
		return s
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, y := range x {
			if y != nil {
				out = append(out, one(luaToString(y)))
			}
		}
		return out
	case map[string]any:
		return nil // an empty Lua table (empty list) arrives as a struct
	case string:
		return []string{one(x)}
	default:
		return []string{luaToString(x)}
	}
}

// luaFromValue is Kong's pb_unwrap for google.protobuf.Value (§3.7):
// `bool_value or string_value or number_value or null_value`, so false
// becomes nil; lists and structs are converted recursively (a nil inside a
// struct drops the key, as a Lua table cannot hold nil). A Go nil
// (null_value) is treated as nil too.
func luaFromValue(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	switch k := v.Kind.(type) {
	case *structpb.Value_BoolValue:
		if k.BoolValue {
			return true
		}
		return nil
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_NumberValue:
		return k.NumberValue
	case *structpb.Value_ListValue:
		out := make([]any, len(k.ListValue.GetValues()))
		for i, x := range k.ListValue.GetValues() {
			out[i] = luaFromValue(x)
		}
		return out
	case *structpb.Value_StructValue:
		return luaFromStruct(k.StructValue)
	}
	return nil
}

func luaFromStruct(s *structpb.Struct) map[string]any {
	out := map[string]any{}
	for key, x := range s.GetFields() {
		if y := luaFromValue(x); y != nil {
			out[key] = y
		}
	}
	return out
}

// valueFromLua is Kong's pb_wrap for google.protobuf.Value: nil → null,
// a table with t[1] → list, any other table (including an empty list) → struct.
func valueFromLua(x any) *structpb.Value {
	switch v := x.(type) {
	case nil:
		return structpb.NewNullValue()
	case bool:
		return structpb.NewBoolValue(v)
	case float64:
		return structpb.NewNumberValue(v)
	case string:
		return structpb.NewStringValue(v)
	case []any:
		if len(v) == 0 || v[0] == nil {
			return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{}})
		}
		l := &structpb.ListValue{}
		for _, y := range v {
			l.Values = append(l.Values, valueFromLua(y))
		}
		return structpb.NewListValue(l)
	case map[string]any:
		return structpb.NewStructValue(structFromLua(v))
	}
	return structpb.NewStringValue(fmt.Sprint(x))
}

func structFromLua(m map[string]any) *structpb.Struct {
	st := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(m))}
	for k, v := range m {
		st.Fields[k] = valueFromLua(v)
	}
	return st
}

// luaToString is tostring() as ngx.log applies it to each argument.
func luaToString(x any) string {
	switch v := x.(type) {
	case nil:
		return "nil"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', 14, 64)
	case string:
		return v
	}
	return "table: 0x00000000"
}

// setDotted applies kong.log.set_serialize_value: dots create nested
// tables; nil deletes.
func setDotted(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			if v == nil {
				return
			}
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	last := parts[len(parts)-1]
	if v == nil {
		delete(m, last)
	} else {
		m[last] = v
	}
}

// ngxVar serves a few common ngx.var names.
func (e *event) ngxVar(name string) string {
	switch name {
	case "remote_addr", "realip_remote_addr", "binary_remote_addr":
		return e.req.ClientIP
	case "host", "server_name":
		return e.req.Host
	case "scheme":
		return e.req.Scheme
	case "request_method":
		return e.req.Method
	case "uri":
		return e.req.Path
	case "args", "query_string":
		return e.req.RawQuery
	case "request_uri":
		if e.req.RawQuery == "" {
			return e.req.Path
		}
		return e.req.Path + "?" + e.req.RawQuery
	case "server_port":
		return strconv.Itoa(e.req.Port)
	case "request_id", "kong_request_id":
		return strings.ReplaceAll(e.inst.PluginID, "-", "")
	}
	if h, ok := strings.CutPrefix(name, "http_"); ok {
		return headerGet(e.req.Headers, h)
	}
	return ""
}

// serialize is a reduced kong.log.serialize() with the serialize values
// applied at the root.
func (e *event) serialize() string {
	hdr := map[string]any{}
	for k, v := range e.req.Headers {
		hdr[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	m := map[string]any{
		"client_ip": e.req.ClientIP,
		"request": map[string]any{
			"method": e.req.Method, "uri": e.req.Path, "headers": hdr,
			"url": fmt.Sprintf("%s://%s:%d%s", e.req.Scheme, e.req.Host, e.req.Port, e.req.Path),
		},
		"response": map[string]any{"status": e.status},
		"route":    map[string]any{"id": e.inst.RouteID},
	}
	if e.rc.authCons != nil {
		m["consumer"] = map[string]any{"id": e.rc.authCons.ID, "username": e.rc.authCons.Username}
	}
	for k, v := range e.rc.serialize {
		m[k] = deepCopy(v)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
