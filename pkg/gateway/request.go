package gateway

import "strings"

// Request gives an Authenticator lazy access to the request: each datum is
// fetched from Kong at most once, and only when asked for.
type Request struct {
	kong    Kong
	meta    *Meta
	headers map[string][]string
	hdrErr  error
	method  *string
	ip      *string
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
		lower := make(map[string][]string, len(h))
		for k, v := range h {
			lk := strings.ToLower(k)
			lower[lk] = append(lower[lk], v...)
		}
		r.headers = lower
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
func (r *Request) RawQuery() (string, error) { return r.kong.RawQuery() }

// RawBody returns the request body.
func (r *Request) RawBody() ([]byte, error) { return r.kong.RawBody() }

// Meta returns what Kong told the plugin about its own config.
func (r *Request) Meta() *Meta { return r.meta }
