package gateway

import (
	"github.com/Kong/go-pdk"
	"github.com/Kong/go-pdk/client"
	"github.com/Kong/go-pdk/entities"
	"github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Kong is every call the suite makes to Kong. One method is one PDK round
// trip. Tests substitute a fake; production uses PDK(k).
type Kong interface {
	Headers() (map[string][]string, error)
	Method() (string, error)
	RawQuery() (string, error)
	RawBody() ([]byte, error)
	ClientIP() (string, error)
	// RequestURL reads the request URI's parts (five PDK calls; one batch
	// on the project's plugin server).
	RequestURL() (RequestURL, error)
	// Credential returns the id of the credential an earlier auth plugin
	// authenticated, or "".
	Credential() (string, error)
	LoadConsumer(ref string) (Consumer, error)
	Authenticate(c *Consumer, credentialID string) error
	// SetUpstreamHeaders sets the given request headers towards the
	// upstream; an empty value removes the header.
	SetUpstreamHeaders(h map[string]string) error
	SetUpstreamRawQuery(q string) error
	SetUpstreamBody(b []byte) error
	Log(level, msg string) error
	SetSerializeValue(key string, v map[string]any) error
	// Exit ends the request. Kong never answers it; nothing may follow.
	Exit(status int, body []byte, headers map[string][]string)
	// ServiceResponse is the service's answer in the response phase;
	// header names are lower-case.
	ServiceResponse() (status int, headers map[string][]string, body []byte, err error)
	SetResponseHeader(name, value string) error
}

// Consumer is a Kong consumer entity.
type Consumer struct {
	ID, Username, CustomID string
	CreatedAt              int64
	Tags                   []string
}

// PDK adapts go-pdk to Kong: pipelined over the project's plugin server,
// one PDK round trip per call under go-pdk's own server.
func PDK(k *pdk.PDK) Kong {
	if c := pluginserver.ConnOf(k); c != nil {
		return pipelinedKong{pdkKong{k}, c}
	}
	return pdkKong{k}
}

type pdkKong struct{ k *pdk.PDK }

// maxHeaders is the most Kong accepts for get_headers (1..1000). Using the
// maximum keeps an attacker from pushing Authorization past the limit.
const maxHeaders = 1000

func (p pdkKong) Headers() (map[string][]string, error) { return p.k.Request.GetHeaders(maxHeaders) }
func (p pdkKong) Method() (string, error)               { return p.k.Request.GetMethod() }
func (p pdkKong) RawQuery() (string, error)             { return p.k.Request.GetRawQuery() }
func (p pdkKong) ClientIP() (string, error)             { return p.k.Client.GetForwardedIp() }

func (p pdkKong) RequestURL() (RequestURL, error) {
	var u RequestURL
	var err error
	if u.Scheme, err = p.k.Request.GetScheme(); err != nil {
		return u, err
	}
	if u.ForwardedScheme, err = p.k.Request.GetForwardedScheme(); err != nil {
		return u, err
	}
	if u.ForwardedHost, err = p.k.Request.GetForwardedHost(); err != nil {
		return u, err
	}
	if u.ForwardedPort, err = p.k.Request.GetForwardedPort(); err != nil {
		return u, err
	}
	u.PathWithQuery, err = p.k.Request.GetPathWithQuery()
	return u, err
}

// RawBody is in body.go: a bounded read, also of a body Kong spooled to a file.

func (p pdkKong) Credential() (string, error) {
	c, err := p.k.Client.GetCredential()
	return c.Id, err
}

// LoadConsumer always searches by username too: kong.client.load_consumer
// raises a Lua error for a non-UUID id without it (kong-go-plugins.md
// §3.5), and with it Kong tries the id first, then the username.
func (p pdkKong) LoadConsumer(ref string) (Consumer, error) {
	c, err := p.k.Client.LoadConsumer(ref, true)
	if err != nil {
		return Consumer{}, err
	}
	return Consumer{ID: c.Id, Username: c.Username, CustomID: c.CustomId, CreatedAt: int64(c.CreatedAt), Tags: c.Tags}, nil
}

func (p pdkKong) Authenticate(c *Consumer, credentialID string) error {
	var ec *entities.Consumer
	if c != nil {
		ec = &entities.Consumer{Id: c.ID, Username: c.Username, CustomId: c.CustomID, CreatedAt: int(c.CreatedAt), Tags: c.Tags}
	}
	var cred *client.AuthenticatedCredential
	if credentialID != "" {
		cred = &client.AuthenticatedCredential{Id: credentialID}
		if c != nil {
			cred.ConsumerId = c.ID
		}
	}
	return p.k.Client.Authenticate(ec, cred)
}

// SetUpstreamHeaders sets and removes every given header in one
// kong.service.request.set_headers call. A value is sent as a plain string;
// "" (remove) is sent as an empty list. Kong turns an empty string into " "
// before ngx.req.set_header (normalize_multi_header,
// kong/pdk/private/checks.lua:13-30), so "" would leave the header present
// and empty upstream (observed in Kong 3.9.3); an empty list passes through
// unchanged, and ngx.req.set_header(name, {}) removes the header, like
// kong.service.request.clear_header. Removing this way costs no round trip
// beyond the one set_headers call, whether the header is present or not,
// and does not depend on the header being among the first 1000 that
// get_headers returned. docs/kong-behaviour.md; pinned in real Kong by the
// e2e suite.
func (p pdkKong) SetUpstreamHeaders(h map[string]string) error {
	return p.k.ServiceRequest.Ask("kong.service.request.set_headers", headersStruct(h), nil)
}

func (p pdkKong) SetUpstreamRawQuery(q string) error { return p.k.ServiceRequest.SetRawQuery(q) }
func (p pdkKong) SetUpstreamBody(b []byte) error     { return p.k.ServiceRequest.SetRawBody(string(b)) }

func (p pdkKong) Log(level, msg string) error {
	switch level {
	case "debug":
		return p.k.Log.Debug(msg)
	case "info":
		return p.k.Log.Info(msg)
	case "notice":
		return p.k.Log.Notice(msg)
	case "warn":
		return p.k.Log.Warn(msg)
	case "crit":
		return p.k.Log.Crit(msg)
	case "alert":
		return p.k.Log.Alert(msg)
	default:
		return p.k.Log.Err(msg)
	}
}

// SetSerializeValue calls kong.log.set_serialize_value, which go-pdk does
// not wrap (pdk#123): Kong serves it from the proto's Log_SetSerializeValue.
func (p pdkKong) SetSerializeValue(key string, v map[string]any) error {
	sv, err := structpb.NewValue(v)
	if err != nil {
		return err
	}
	return p.k.Log.Ask("kong.log.set_serialize_value", &kong_plugin_protocol.KV{K: key, V: sv}, nil)
}

func (p pdkKong) Exit(status int, body []byte, headers map[string][]string) {
	p.k.Response.Exit(status, body, headers)
}

// ServiceResponse reads the provider's answer in the response phase.
//
// The headers come from kong.response.get_headers, not
// kong.service.response.get_headers: with buffered proxying (which a
// Response handler implies) the latter returns an empty Lua table whose
// __index metamethod looks names up (kong/pdk/service/response.lua:79-115),
// and the plugin socket encodes tables with pairs(), so the plugin gets an
// empty map: every answer looked like it had no Content-Type (observed in
// Kong 3.9.3, docs/kong-behaviour.md). In the response phase Kong has just
// copied the service's headers onto the response (kong/init.lua
// Kong.response: kong.response.set_headers(res.header)), and
// ngx.resp.get_headers is a plain table with lower-case names, so one
// round trip still returns them all.
func (p pdkKong) ServiceResponse() (int, map[string][]string, []byte, error) {
	st, err := p.k.ServiceResponse.GetStatus()
	if err != nil {
		return 0, nil, nil, err
	}
	h, err := p.k.Response.GetHeaders(maxHeaders)
	if err != nil {
		return 0, nil, nil, err
	}
	b, err := p.k.ServiceResponse.GetRawBody()
	return st, h, b, err
}

func (p pdkKong) SetResponseHeader(name, value string) error {
	return p.k.Response.SetHeader(name, value)
}
