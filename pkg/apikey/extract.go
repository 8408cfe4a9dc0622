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
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// Where a key was found.
const (
	InHeader = "header"
	InQuery  = "query"
	InBody   = "body"
)

// MaxBodyBytes bounds the body searched for a key (key_in_body): a larger
// body is not searched, and not read beyond the limit.
const MaxBodyBytes = gateway.MaxRawBody

// MaxKeyLen bounds a key: anything longer is refused before hashing.
const MaxKeyLen = 4096

// Extraction errors.
var (
	ErrMissing   = errors.New("no API key found")
	ErrDuplicate = errors.New("API key given more than once")
	ErrTooLong   = errors.New("API key too long")
	// ErrNotAKey is a key name whose value cannot be a key: a JSON member
	// that is not a string, or a JSON body that cannot be decoded.
	ErrNotAKey = errors.New("API key value is not a string")
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

// candidate is one occurrence of a key name; usable is false when its
// value cannot be a key (see ErrNotAKey).
type candidate struct {
	value  string
	usable bool
}

// Extract looks for each name of names, in order, in the header, the
// query and the body (as Kong's key-auth does), returning the first name
// found. Unlike key-auth, a name given more than once — two headers, a
// header and a query parameter, twice in the query, twice in a form or
// JSON body — is a duplicate rather than "the header wins" or "the last
// member wins": the gateway cannot know which one the client meant, and a
// smuggled second key must not be silently ignored. For the same reason an
// occurrence that cannot be decoded but carries the name counts: a query or
// form part with a bad escape or a ';' (gateway.ParamValues), a JSON member
// that is not a string, a JSON body that does not parse but names the key.
// JSON member names match case-insensitively, as Go's encoding/json
// matches struct fields: an upstream in Go would read "APIKEY" too.
// Empty values count as absent.
func Extract(names []string, r Request, inHeader, inQuery, inBody bool) (Found, error) {
	var body func(name string) []candidate
	if inBody && len(r.Body) > 0 && len(r.Body) <= MaxBodyBytes {
		body = bodyValues(r.Body, r.ContentType)
	}
	for _, name := range names {
		var found []candidate
		var where []string
		add := func(loc string, c []candidate) {
			if len(c) > 0 {
				found = append(found, c...)
				where = append(where, loc)
			}
		}
		if inHeader {
			add(InHeader, usable(r.Headers[strings.ToLower(name)]))
		}
		if inQuery && r.RawQuery != "" {
			add(InQuery, usable(gateway.ParamValues(r.RawQuery, name)))
		}
		if body != nil {
			add(InBody, body(name))
		}
		switch {
		case len(found) == 0:
			continue
		case len(found) > 1:
			return Found{Name: name, Location: strings.Join(where, "+")}, ErrDuplicate
		case !found[0].usable:
			return Found{Name: name, Location: where[0]}, ErrNotAKey
		case len(found[0].value) > MaxKeyLen:
			return Found{Name: name, Location: where[0]}, ErrTooLong
		}
		return Found{Key: found[0].value, Name: name, Location: where[0]}, nil
	}
	return Found{}, ErrMissing
}

// usable turns values into candidates, dropping empty ones.
func usable(v []string) []candidate {
	var out []candidate
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, candidate{s, true})
		}
	}
	return out
}

// bodyValues returns the lookup for an application/x-www-form-urlencoded
// body or a JSON object's top-level members; nil for other bodies.
func bodyValues(body []byte, contentType string) func(name string) []candidate {
	switch bodyKind(contentType) {
	case kindForm:
		raw := string(body)
		return func(name string) []candidate { return usable(gateway.ParamValues(raw, name)) }
	case kindJSON:
		members, broken := jsonMembers(body)
		return func(name string) []candidate {
			var out []candidate
			for _, m := range members {
				if !strings.EqualFold(m.name, name) {
					continue
				}
				switch {
				case !m.isString:
					out = append(out, candidate{})
				case strings.TrimSpace(m.value) != "":
					out = append(out, candidate{strings.TrimSpace(m.value), !broken})
				}
			}
			if broken && len(out) == 0 && bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(name))) {
				// The body does not parse, yet it names the key: a lenient
				// parser upstream may find it.
				out = append(out, candidate{})
			}
			return out
		}
	}
	return nil
}

const (
	kindOther = iota
	kindForm
	kindJSON
)

func bodyKind(contentType string) int {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return kindForm
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return kindJSON
	}
	return kindOther
}

type jsonMember struct {
	name, value string
	isString    bool
}

// jsonMembers lists the top-level members of a JSON object in order,
// repeated names included (encoding/json's map decoding keeps only the
// last). broken is set when the body is not exactly one well-formed JSON
// value (trailing data included, which json.Unmarshal refuses); the members
// read before the error are still returned, a member whose value could not
// be read as a non-string. A valid body that is not an object has no
// members.
func jsonMembers(body []byte) (members []jsonMember, broken bool) {
	broken = !json.Valid(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, broken
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return members, true
		}
		m := jsonMember{}
		m.name, _ = tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(members, m), true
		}
		m.isString = json.Unmarshal(raw, &m.value) == nil
		members = append(members, m)
	}
	return members, broken
}
