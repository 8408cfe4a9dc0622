// Package apikey implements API-key authentication for the authkit-key
// plugin: finding the key in the request (Kong key-auth's places and
// names), the store of SHA-256 key hashes with expiry, and removing the key
// before proxying.
package apikey

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"strings"
)

// Where a key was found.
const (
	InHeader = "header"
	InQuery  = "query"
	InBody   = "body"
)

// MaxBodyBytes bounds the body searched for a key (key_in_body).
const MaxBodyBytes = 1 << 20

// MaxKeyLen bounds a key: anything longer is refused before hashing.
const MaxKeyLen = 4096

// Extraction errors.
var (
	ErrMissing   = errors.New("no API key found")
	ErrDuplicate = errors.New("API key given more than once")
	ErrTooLong   = errors.New("API key too long")
)

// Request is what extraction looks at. The caller fills only the sources
// the config enables (an unset source costs no PDK call).
type Request struct {
	// Headers maps lower-cased names to all values.
	Headers map[string][]string
	// RawQuery is the query string ("" when key_in_query is off).
	RawQuery string
	// Body and ContentType are set when key_in_body is on.
	Body        []byte
	ContentType string
}

// Found is a key and where it came from.
type Found struct {
	Key      string
	Name     string
	Location string
}

// Extract looks for each name of names, in order, in the header, the
// query and the body (as Kong's key-auth does), returning the first name
// found. Unlike key-auth, a name given more than once — two headers, or a
// header and a query parameter, or twice in the query — is a duplicate
// rather than "the header wins": the gateway cannot know which one the
// client meant, and a smuggled second key must not be silently ignored.
func Extract(names []string, r Request, inHeader, inQuery, inBody bool) (Found, error) {
	var query url.Values
	if inQuery && r.RawQuery != "" {
		query = parseQueryLenient(r.RawQuery)
	}
	var body map[string][]string
	if inBody && len(r.Body) > 0 && len(r.Body) <= MaxBodyBytes {
		body = bodyValues(r.Body, r.ContentType)
	}
	for _, name := range names {
		var vals []string
		var where []string
		if inHeader {
			if v := nonEmpty(r.Headers[strings.ToLower(name)]); len(v) > 0 {
				vals = append(vals, v...)
				where = append(where, InHeader)
			}
		}
		if query != nil {
			if v := nonEmpty(query[name]); len(v) > 0 {
				vals = append(vals, v...)
				where = append(where, InQuery)
			}
		}
		if body != nil {
			if v := nonEmpty(body[name]); len(v) > 0 {
				vals = append(vals, v...)
				where = append(where, InBody)
			}
		}
		switch {
		case len(vals) == 0:
			continue
		case len(vals) > 1:
			return Found{Name: name, Location: strings.Join(where, "+")}, ErrDuplicate
		case len(vals[0]) > MaxKeyLen:
			return Found{Name: name, Location: where[0]}, ErrTooLong
		}
		return Found{Key: vals[0], Name: name, Location: where[0]}, nil
	}
	return Found{}, ErrMissing
}

func nonEmpty(v []string) []string {
	out := v[:0:0]
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseQueryLenient parses a query string, keeping what parses: a broken
// escape in one parameter must not hide the key in another.
func parseQueryLenient(q string) url.Values {
	v := url.Values{}
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			continue
		}
		v[k] = append(v[k], val)
	}
	return v
}

// bodyValues reads an application/x-www-form-urlencoded body or a JSON
// object's top-level string members.
func bodyValues(body []byte, contentType string) map[string][]string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return parseQueryLenient(string(body))
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&obj); err != nil {
			return nil
		}
		out := map[string][]string{}
		for k, raw := range obj {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				out[k] = append(out[k], s)
			}
		}
		return out
	}
	return nil
}
