// Package gatewaytest is a fake Kong for unit tests of code that runs on
// pkg/gateway, as net/http/httptest is for HTTP handlers: a Kong that
// answers the plugin's PDK calls from a Request and records every call and
// its effect, and a builder for the gateway.Request an Authenticator reads.
//
//	k := gatewaytest.New(gatewaytest.Request{Headers: gatewaytest.Headers("Authorization", "Basic …")})
//	ident, err := auth.Authenticate(k.NewRequest())
//
// Calls are recorded by short names, one per gateway.Kong method (one PDK
// round trip each): get_headers, get_method, get_raw_query, get_raw_body,
// get_forwarded_ip, get_credential, load_consumer, authenticate,
// set_headers, set_raw_query, set_raw_body, log.<level>,
// set_serialize_value, exit, service_response, response.set_header.
// internal/kongwire drives the real plugin binaries over the socket
// instead; this fake is for the packages below them.
package gatewaytest

import (
	"net/http"
	"strings"
	"sync"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// Request is the client's request as Kong hands it to the plugin.
type Request struct {
	Method string
	// Headers are keyed by lower-case name, as Kong's get_headers gives
	// them (see Headers).
	Headers map[string][]string
	// HeadersErr makes get_headers fail, as it does for a header value
	// that is not UTF-8 (go-pdk cannot decode it).
	HeadersErr error
	RawQuery   string
	Body       []byte
	// ClientIP is what get_forwarded_ip returns; "" means 192.0.2.1.
	ClientIP string
	// Credential is the id of the credential an earlier auth plugin
	// authenticated (kong.client.get_credential), or "".
	Credential string
	// URL is what the request-URI calls return (get_scheme,
	// get_forwarded_scheme/_host/_port, get_path_with_query); the zero
	// value means http://kong.test:8000 and the path "/".
	URL gateway.RequestURL
}

// Response is the service's answer, read in the response phase.
type Response struct {
	// Status 0 means 200.
	Status  int
	Headers map[string][]string
	Body    []byte
}

// Headers builds a header map from name/value pairs, names lower-cased as
// Kong gives them; a repeated name collects its values.
func Headers(pairs ...string) map[string][]string {
	h := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		k := strings.ToLower(pairs[i])
		h[k] = append(h[k], pairs[i+1])
	}
	return h
}

// Kong is a gateway.Kong that answers from Req, Consumers and Service and
// records what the plugin did. A PDK call after Exit panics, as nothing
// may follow kong.response.exit. Set the inputs before the event; read
// the results after it.
type Kong struct {
	Req Request
	// Consumers are Kong's consumers, by id and by username
	// (kong.client.load_consumer); a missing one is not found (nil, nil).
	Consumers map[string]gateway.Consumer
	Service   Response

	mu    sync.Mutex
	calls []string

	// Exited, Status, Body and ExitHeaders are kong.response.exit's.
	Exited      bool
	Status      int
	Body        []byte
	ExitHeaders map[string][]string
	// Logs are "<level> <message>" lines (kong.log.<level>).
	Logs []string
	// Serialized is the last kong.log.set_serialize_value value.
	Serialized map[string]any
	// AuthConsumer and AuthCredential are what kong.client.authenticate got.
	AuthConsumer   *gateway.Consumer
	AuthCredential string
	// Upstream is the last set_headers call ("" removes a header).
	Upstream        map[string]string
	UpstreamQuery   *string
	UpstreamBody    []byte
	ResponseHeaders map[string]string
}

// New returns a fake Kong serving req.
func New(req Request) *Kong { return &Kong{Req: req, Consumers: map[string]gateway.Consumer{}} }

// NewRequest is the gateway.Request an Authenticator reads, over k, with
// empty metadata (no route, default workspace).
func (k *Kong) NewRequest() *gateway.Request { return gateway.NewRequest(k, &gateway.Meta{}) }

// AddConsumers makes each consumer findable by id and by username.
func (k *Kong) AddConsumers(cs ...gateway.Consumer) {
	for _, c := range cs {
		if c.ID != "" {
			k.Consumers[c.ID] = c
		}
		if c.Username != "" {
			k.Consumers[c.Username] = c
		}
	}
}

// Calls returns the calls made so far, in order.
func (k *Kong) Calls() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.calls...)
}

// CallList is Calls joined by commas, for comparisons.
func (k *Kong) CallList() string { return strings.Join(k.Calls(), ",") }

func (k *Kong) call(name string) {
	k.mu.Lock()
	k.calls = append(k.calls, name)
	exited := k.Exited
	k.mu.Unlock()
	if exited {
		panic("gatewaytest: PDK call after exit: " + name)
	}
}

func (k *Kong) Headers() (map[string][]string, error) {
	k.call("get_headers")
	if k.Req.HeadersErr != nil {
		return nil, k.Req.HeadersErr
	}
	return k.Req.Headers, nil
}

func (k *Kong) Method() (string, error)   { k.call("get_method"); return k.Req.Method, nil }
func (k *Kong) RawQuery() (string, error) { k.call("get_raw_query"); return k.Req.RawQuery, nil }
func (k *Kong) RawBody() ([]byte, error)  { k.call("get_raw_body"); return k.Req.Body, nil }

func (k *Kong) ClientIP() (string, error) {
	k.call("get_forwarded_ip")
	if k.Req.ClientIP == "" {
		return "192.0.2.1", nil
	}
	return k.Req.ClientIP, nil
}

// RequestURL answers the request-URI calls from Req.URL.
func (k *Kong) RequestURL() (gateway.RequestURL, error) {
	k.call("request_url")
	u := k.Req.URL
	if u == (gateway.RequestURL{}) {
		u = gateway.RequestURL{Scheme: "http", ForwardedScheme: "http", ForwardedHost: "kong.test", ForwardedPort: 8000, PathWithQuery: "/"}
	}
	return u, nil
}

func (k *Kong) Credential() (string, error) { k.call("get_credential"); return k.Req.Credential, nil }

func (k *Kong) LoadConsumer(ref string) (gateway.Consumer, error) {
	k.call("load_consumer")
	return k.Consumers[ref], nil
}

func (k *Kong) Authenticate(c *gateway.Consumer, credentialID string) error {
	k.call("authenticate")
	k.AuthConsumer, k.AuthCredential = c, credentialID
	return nil
}

func (k *Kong) SetUpstreamHeaders(h map[string]string) error {
	k.call("set_headers")
	k.Upstream = h
	return nil
}

func (k *Kong) SetUpstreamRawQuery(q string) error {
	k.call("set_raw_query")
	k.UpstreamQuery = &q
	return nil
}

func (k *Kong) SetUpstreamBody(b []byte) error {
	k.call("set_raw_body")
	k.UpstreamBody = b
	return nil
}

func (k *Kong) Log(level, msg string) error {
	k.call("log." + level)
	k.Logs = append(k.Logs, level+" "+msg)
	return nil
}

func (k *Kong) SetSerializeValue(_ string, v map[string]any) error {
	k.call("set_serialize_value")
	k.Serialized = v
	return nil
}

func (k *Kong) Exit(status int, body []byte, headers map[string][]string) {
	k.call("exit")
	k.mu.Lock()
	k.Exited, k.Status, k.Body, k.ExitHeaders = true, status, body, headers
	k.mu.Unlock()
}

func (k *Kong) ServiceResponse() (int, map[string][]string, []byte, error) {
	k.call("service_response")
	st := k.Service.Status
	if st == 0 {
		st = http.StatusOK
	}
	return st, k.Service.Headers, k.Service.Body, nil
}

func (k *Kong) SetResponseHeader(name, value string) error {
	k.call("response.set_header")
	if k.ResponseHeaders == nil {
		k.ResponseHeaders = map[string]string{}
	}
	k.ResponseHeaders[name] = value
	return nil
}

var _ gateway.Kong = (*Kong)(nil)
