package gateway

import (
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Request gives an Authenticator lazy access to the request: each datum is
// fetched from Kong at most once, and only when asked for.
type Request struct {
	kong       Kong
	meta       *Meta
	headers    map[string][]string
	hdrErr     error
	method     *string
	ip         *string
	rawQuery   *string
	credential *string
	url        *RequestURL
	body       *bodyResult
	response   *UpstreamResponse
	warnings   []*errcode.Error
}

// Warn records a warning about something the authenticator worked around
// (e.g. a Redis outage it answered with process-local state). It is logged
// at warn, with outcome "accepted", whatever the request's verdict.
func (r *Request) Warn(e *errcode.Error) { r.warnings = append(r.warnings, e) }

// prefetch reads the facts in need in one round trip when Kong can batch
// (pipelinedKong); otherwise each is read lazily on first use. A failed
// batch leaves everything to the lazy path.
func (r *Request) prefetch(need Facts) {
	f, ok := r.kong.(Fetcher)
	if !ok || need == 0 {
		return
	}
	snap, err := f.Fetch(need)
	if err != nil {
		return
	}
	if snap.Have&FactHeaders != 0 {
		r.setHeaders(snap.Headers)
	}
	if snap.Have&FactMethod != 0 {
		r.method = &snap.Method
	}
	if snap.Have&FactRawQuery != 0 {
		r.rawQuery = &snap.RawQuery
	}
	if snap.Have&FactClientIP != 0 {
		r.ip = &snap.ClientIP
	}
	if snap.Have&FactCredential != 0 {
		r.credential = &snap.Credential
	}
	if snap.Have&FactURL != 0 {
		r.url = &snap.URL
	}
	if snap.Have&FactRawBody != 0 {
		r.body = &bodyResult{snap.Body, snap.BodyErr}
	}
	if snap.Response != nil {
		r.response = snap.Response
	}
}

func (r *Request) setHeaders(h map[string][]string) {
	lower := make(map[string][]string, len(h))
	for k, v := range h {
		lk := strings.ToLower(k)
		lower[lk] = append(lower[lk], v...)
	}
	r.headers = lower
}

// Header returns the first value of a request header ("" if absent).
// Header names are case-insensitive (Kong lower-cases them).
func (r *Request) Header(name string) string {
	v := r.HeaderValues(name)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// HeaderValues returns every value of a request header.
func (r *Request) HeaderValues(name string) []string {
	if r.headers == nil {
		h, err := r.kong.Headers()
		if err != nil || h == nil {
			r.hdrErr = err
			h = map[string][]string{}
		}
		r.setHeaders(h)
	}
	return r.headers[strings.ToLower(name)]
}

// HeadersErr returns the error of reading the request headers from Kong
// (nil when they were read). Header and HeaderValues then see no headers
// at all: a caller that must not mistake "unreadable" for "absent" checks
// it. go-pdk refuses a header value that is not UTF-8 (proto3 strings), so
// one such header hides every other.
func (r *Request) HeadersErr() error {
	r.HeaderValues("")
	return r.hdrErr
}

// Headers returns all request headers, names lower-cased. The map is
// shared: do not modify it.
func (r *Request) Headers() map[string][]string {
	r.HeaderValues("")
	return r.headers
}

// Method returns the request method.
func (r *Request) Method() string {
	if r.method == nil {
		m, _ := r.kong.Method()
		r.method = &m
	}
	return *r.method
}

// ClientIP returns the client address as Kong sees it (forwarded address
// when Kong trusts the proxy in front of it).
func (r *Request) ClientIP() string {
	if r.ip == nil {
		ip, _ := r.kong.ClientIP()
		r.ip = &ip
	}
	return *r.ip
}

// RawQuery returns the request's query string.
func (r *Request) RawQuery() (string, error) {
	if r.rawQuery == nil {
		q, err := r.kong.RawQuery()
		if err != nil {
			return "", err
		}
		r.rawQuery = &q
	}
	return *r.rawQuery, nil
}

// Credential returns the id of the credential an earlier auth plugin
// authenticated, or "".
func (r *Request) Credential() string {
	if r.credential == nil {
		id, _ := r.kong.Credential()
		r.credential = &id
	}
	return *r.credential
}

// URL returns the request URI as the client addressed it (see
// RequestURL for where each part comes from).
func (r *Request) URL() (RequestURL, error) {
	if r.url == nil {
		u, err := r.kong.RequestURL()
		if err != nil {
			return RequestURL{}, err
		}
		r.url = &u
	}
	return *r.url, nil
}

// RawBody returns the request body (at most MaxRawBody bytes: see
// pdkKong.RawBody).
func (r *Request) RawBody() ([]byte, error) {
	if r.body == nil {
		b, err := r.kong.RawBody()
		r.body = &bodyResult{b, err}
	}
	return r.body.b, r.body.err
}

type bodyResult struct {
	b   []byte
	err error
}

// Meta returns what Kong told the plugin about its own config.
func (r *Request) Meta() *Meta { return r.meta }

// NewRequest is the Request an Authenticator reads over k: each fact is
// fetched from k at most once, when first asked for. Serve builds its own;
// this is for tests of Authenticators (pkg/gateway/gatewaytest).
func NewRequest(k Kong, meta *Meta) *Request { return &Request{kong: k, meta: meta} }
