package tokenexplain

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// errorBody is an RFC 6749 §5.2 error object plus the catalog code. An
// authorization request with a bad redirect URI is answered directly
// (never redirected to, §4.1.2.1) with invalid_request.
func errorBody(ent errcode.Entry, e *errcode.Error) []byte {
	name := ent.BearerError
	if e.Field("endpoint") == "authorization" && ent.Code == errcode.RedirectURIMismatch {
		name = "invalid_request"
	}
	if name == "" {
		name = "server_error"
	}
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Code        string `json:"code"`
	}{name, ent.Message, string(ent.Code)})
	return b
}

// clientChallenge: RFC 6749 §5.2 — a client that authenticated with the
// Authorization header gets 401 with a matching challenge.
func clientChallenge(e *errcode.Error) string {
	if e.Code == errcode.ClientAuthFailed && e.Field("client_auth") == "client_secret_basic" {
		return `Basic realm="oauth", charset="UTF-8"`
	}
	return ""
}

// readRequest reads the client's request: a token request (form body) or
// an authorization request (query, or a POST form). It gives nil, nil for
// a request that is neither, and an error wrapping ErrMalformed for one it
// cannot read or parse: headers Kong could not hand over, two Content-Type
// or Authorization headers, a body it cannot read in full (spooled to a
// file the plugin cannot open, or larger than gateway.MaxRawBody), or
// anything Parse refuses. With `enforce` that error is a refusal; when
// explaining an answer it only means "unknown request".
func readRequest(r *gateway.Request) (*Request, error) {
	if err := r.HeadersErr(); err != nil {
		return nil, fmt.Errorf("%w: request headers: %v", ErrMalformed, err)
	}
	for _, h := range []string{"Content-Type", "Authorization"} {
		if n := len(r.HeaderValues(h)); n > 1 {
			return nil, fmt.Errorf("%w: %d %s headers", ErrMalformed, n, h)
		}
	}
	q, err := r.RawQuery()
	if err != nil {
		return nil, fmt.Errorf("%w: query string: %v", ErrMalformed, err)
	}
	body, err := r.RawBody()
	if err != nil {
		// Never "no body": a request whose body cannot be checked must not
		// pass as one without parameters.
		return nil, fmt.Errorf("%w: request body: %v", ErrMalformed, err)
	}
	return Parse(r.Header("Content-Type"), q, body, r.Header("Authorization"))
}

func (c *Compiled) annotateRequest(e *errcode.Error, r *Request) *errcode.Error {
	if r.Kind == Authorization {
		e = e.With("endpoint", "authorization")
	} else {
		e = e.With("endpoint", "token")
	}
	if e.Code == errcode.ClientAuthFailed {
		e = e.With("client_auth", r.ClientAuth)
	}
	return e
}

// Access refuses, before the provider sees it, a request that breaks the
// allow-lists or cannot be parsed — only with `enforce`; otherwise it makes
// no PDK call at all.
func (comp *Compiled) Access(x *gateway.Exchange) {
	if !comp.enforce {
		return
	}
	x.Prefetch(gateway.FactHeaders | gateway.FactRawQuery | gateway.FactRawBody)
	r, err := readRequest(x.Request())
	if err != nil {
		x.Refuse(errcode.Wrap(errcode.TokenRequestInvalid, err))
		return
	}
	if r == nil {
		return
	}
	if e := comp.allow.Check(r); e != nil {
		x.Refuse(comp.annotateRequest(e, r))
	}
}

// Response explains the provider's answer: X-Authkit-Code, one log line
// and the serialize value; with rewrite_invalid_responses, an answer that is
// not OAuth at all is replaced by an RFC 6749 server_error.
func (comp *Compiled) Response(x *gateway.Exchange) {
	// The provider's answer and the client's request, in one round trip.
	x.Prefetch(gateway.FactUpstreamResponse | gateway.FactHeaders | gateway.FactRawQuery | gateway.FactRawBody)
	status, headers, body, err := x.UpstreamResponse()
	if err != nil {
		x.Annotate(errcode.Wrap(errcode.InternalError, err), CodeHeader)
		return
	}
	h := http.Header{}
	for k, v := range headers {
		h[http.CanonicalHeaderKey(k)] = v
	}
	r, _ := readRequest(x.Request()) // an unparseable request is explained as an unknown one
	v := Classify(r, comp.allow, status, h, body)
	if v.Err == nil && r != nil {
		// The provider accepted it, but it broke the allow-lists
		// (enforce off): say so.
		v.Err, v.Usable = comp.allow.Check(r), true
	}
	if v.Err == nil {
		x.Accept()
		return
	}
	if r != nil {
		v.Err = comp.annotateRequest(v.Err, r)
	}
	if v.Usable {
		// The client got what it asked for: a warning, not a refusal.
		x.Warn(v.Err, CodeHeader)
		return
	}
	if comp.rewrite && v.Unusable {
		ent := v.Err.Code.Entry()
		x.Replace(v.Err, http.StatusBadGateway, errorBody(ent, v.Err), map[string][]string{
			"Content-Type":  {"application/json; charset=utf-8"},
			"Cache-Control": {"no-store"},
		})
		return
	}
	x.Annotate(v.Err, CodeHeader)
}

var _ gateway.Inspecting = (*Compiled)(nil)
