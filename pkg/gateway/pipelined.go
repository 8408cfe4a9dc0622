package gateway

import (
	"strings"

	"github.com/Kong/go-pdk/bridge"
	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// pipelinedKong is the Kong adapter over the project's plugin server
// (pkg/pluginserver): calls whose reply is empty are deferred (sent without
// waiting, their replies dropped later), the request facts a config needs
// are fetched in one batch, and the response of the response phase in
// another. A warm success then costs the event and one batch: the same two
// round trips as a go-pdk plugin that reads one header. Every call still
// reaches Kong in program order before the event ends.
type pipelinedKong struct {
	pdkKong
	c *pluginserver.Conn
}

// Fetch reads the facts in need in one round trip.
func (p pipelinedKong) Fetch(need Facts) (Snapshot, error) {
	var (
		snap    Snapshot
		calls   []pluginserver.Call
		headers structpb.Struct
		method  kpp.String
		query   kpp.String
		ip      kpp.String
		cred    kpp.AuthenticatedCredential
		url     [4]kpp.String
		fport   kpp.Int
		body    kpp.RawBodyResult
		rst     kpp.Int
		rhdrs   structpb.Struct
		rbody   kpp.RawBodyResult
	)
	if need&FactUpstreamResponse != 0 {
		calls = append(calls, upstreamResponseCalls(&rst, &rhdrs, &rbody)...)
	}
	if need&FactHeaders != 0 {
		calls = append(calls, pluginserver.Call{Method: "kong.request.get_headers", Args: &kpp.Int{V: maxHeaders}, Out: &headers})
	}
	if need&FactMethod != 0 {
		calls = append(calls, pluginserver.Call{Method: "kong.request.get_method", Out: &method})
	}
	if need&FactRawQuery != 0 {
		calls = append(calls, pluginserver.Call{Method: "kong.request.get_raw_query", Out: &query})
	}
	if need&FactClientIP != 0 {
		calls = append(calls, pluginserver.Call{Method: "kong.client.get_forwarded_ip", Out: &ip})
	}
	if need&FactCredential != 0 {
		calls = append(calls, pluginserver.Call{Method: "kong.client.get_credential", Out: &cred})
	}
	if need&FactURL != 0 {
		calls = append(calls,
			pluginserver.Call{Method: "kong.request.get_scheme", Out: &url[0]},
			pluginserver.Call{Method: "kong.request.get_forwarded_scheme", Out: &url[1]},
			pluginserver.Call{Method: "kong.request.get_forwarded_host", Out: &url[2]},
			pluginserver.Call{Method: "kong.request.get_forwarded_port", Out: &fport},
			pluginserver.Call{Method: "kong.request.get_path_with_query", Out: &url[3]})
	}
	if need&FactRawBody != 0 {
		calls = append(calls, pluginserver.Call{Method: "kong.request.get_raw_body", Out: &body})
	}
	if len(calls) == 0 {
		return snap, nil
	}
	if err := p.c.Batch(calls...); err != nil {
		return snap, err
	}
	snap.Have = need
	if need&FactHeaders != 0 {
		snap.Headers = bridge.UnwrapHeaders(&headers)
	}
	snap.Method, snap.RawQuery, snap.ClientIP, snap.Credential = method.V, query.V, ip.V, cred.Id
	snap.URL = RequestURL{Scheme: url[0].V, ForwardedScheme: url[1].V, ForwardedHost: url[2].V,
		ForwardedPort: int(fport.V), PathWithQuery: url[3].V}
	if need&FactRawBody != 0 {
		snap.Body, snap.BodyErr = bodyOf(&body)
	}
	if need&FactUpstreamResponse != 0 {
		snap.Response = &UpstreamResponse{Status: int(rst.V), Headers: bridge.UnwrapHeaders(&rhdrs), Body: rbody.GetContent()}
	}
	return snap, nil
}

func (p pipelinedKong) Authenticate(c *Consumer, credentialID string) error {
	args := &kpp.AuthenticateArgs{}
	if c != nil {
		args.Consumer = &kpp.Consumer{Id: c.ID, CreatedAt: c.CreatedAt, Username: c.Username, CustomId: c.CustomID, Tags: c.Tags}
	}
	if credentialID != "" {
		args.Credential = &kpp.AuthenticatedCredential{Id: credentialID}
		if c != nil {
			args.Credential.ConsumerId = c.ID
		}
	}
	return p.c.Defer("kong.client.authenticate", args)
}

func (p pipelinedKong) SetUpstreamHeaders(h map[string]string) error {
	return p.c.Defer("kong.service.request.set_headers", headersStruct(h))
}

func (p pipelinedKong) SetUpstreamRawQuery(q string) error {
	return p.c.Defer("kong.service.request.set_raw_query", &kpp.String{V: q})
}

func (p pipelinedKong) SetUpstreamBody(b []byte) error {
	return p.c.Defer("kong.service.request.set_raw_body", &kpp.String{V: string(b)})
}

func (p pipelinedKong) Log(level, msg string) error {
	switch level {
	case "debug", "info", "notice", "warn", "err", "crit", "alert":
	default:
		level = "err"
	}
	return p.c.Defer("kong.log."+level, &structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue(msg)}})
}

func (p pipelinedKong) SetSerializeValue(key string, v map[string]any) error {
	sv, err := structpb.NewValue(v)
	if err != nil {
		return err
	}
	return p.c.Defer("kong.log.set_serialize_value", &kpp.KV{K: key, V: sv})
}

func (p pipelinedKong) Exit(status int, body []byte, headers map[string][]string) {
	_ = p.c.Exit(status, body, headers)
}

// ServiceResponse reads the upstream's status, headers and body in one
// round trip (response phase).
func (p pipelinedKong) ServiceResponse() (int, map[string][]string, []byte, error) {
	var (
		st   kpp.Int
		hdrs structpb.Struct
		body kpp.RawBodyResult
	)
	err := p.c.Batch(upstreamResponseCalls(&st, &hdrs, &body)...)
	if err != nil {
		return 0, nil, nil, err
	}
	return int(st.V), bridge.UnwrapHeaders(&hdrs), body.GetContent(), nil
}

// upstreamResponseCalls read the upstream's answer in the response phase:
// kong.response.get_headers, not kong.service.response.get_headers, which
// is empty with buffered proxying (see pdkKong.ServiceResponse).
func upstreamResponseCalls(st *kpp.Int, hdrs *structpb.Struct, body *kpp.RawBodyResult) []pluginserver.Call {
	return []pluginserver.Call{
		{Method: "kong.service.response.get_status", Out: st},
		{Method: "kong.response.get_headers", Args: &kpp.Int{V: maxHeaders}, Out: hdrs},
		{Method: "kong.service.response.get_raw_body", Out: body},
	}
}

func (p pipelinedKong) SetResponseHeader(name, value string) error {
	return p.c.Defer("kong.response.set_header", &kpp.KV{K: name, V: structpb.NewStringValue(value)})
}

// headersStruct is the set_headers argument of SetUpstreamHeaders: a plain
// string per value, and an empty list for "" (remove). See
// pdkKong.SetUpstreamHeaders: Kong would send "" upstream as a present,
// empty header.
func headersStruct(h map[string]string) *structpb.Struct {
	fields := make(map[string]*structpb.Value, len(h))
	for k, v := range h {
		if v == "" {
			fields[k] = structpb.NewListValue(&structpb.ListValue{})
			continue
		}
		fields[k] = structpb.NewStringValue(v)
	}
	return &structpb.Struct{Fields: fields}
}

// Facts are the request data an authenticator reads from Kong.
type Facts uint8

const (
	FactHeaders Facts = 1 << iota
	FactMethod
	FactRawQuery
	FactClientIP
	FactCredential
	FactRawBody
	// FactUpstreamResponse is the service's answer (response phase only).
	FactUpstreamResponse
	// FactURL is the request URI as the client addressed it (RequestURL):
	// DPoP's htu check (RFC 9449 §4.3 (9)) and the TLS check of
	// certificate-bound tokens.
	FactURL
)

func (f Facts) String() string {
	var parts []string
	for _, x := range []struct {
		f    Facts
		name string
	}{{FactHeaders, "headers"}, {FactMethod, "method"}, {FactRawQuery, "raw_query"}, {FactClientIP, "client_ip"}, {FactCredential, "credential"}, {FactRawBody, "raw_body"}, {FactUpstreamResponse, "upstream_response"}, {FactURL, "url"}} {
		if f&x.f != 0 {
			parts = append(parts, x.name)
		}
	}
	return strings.Join(parts, ",")
}

// Snapshot holds the facts fetched in one batch; Have says which.
type Snapshot struct {
	Have                                   Facts
	Headers                                map[string][]string
	Method, RawQuery, ClientIP, Credential string
	URL                                    RequestURL
	// Body and BodyErr are RawBody's answer (bounded, spooled files read).
	Body    []byte
	BodyErr error
	// Response is the upstream's answer (FactUpstreamResponse).
	Response *UpstreamResponse
}

// UpstreamResponse is the service's answer as the response phase sees it.
type UpstreamResponse struct {
	Status  int
	Headers map[string][]string
	Body    []byte
}

// Fetcher is a Kong that reads several request facts in one round trip.
type Fetcher interface {
	Fetch(need Facts) (Snapshot, error)
}

var (
	_ Kong    = pipelinedKong{}
	_ Fetcher = pipelinedKong{}
)
