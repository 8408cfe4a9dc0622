// Package introspect validates opaque access tokens with OAuth 2.0 Token
// Introspection (RFC 7662): it asks the provider, treats the answer as
// untrusted input, and caches answers no longer than the token lives.
package introspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// Answer is a parsed introspection response.
type Answer struct {
	// Active is the RFC 7662 §2.2 "active" member.
	Active bool
	// Claims are the other members (scope, client_id, exp, iss, aud…), for
	// the same claim checks as a JWT's.
	Claims map[string]any
}

// numeric members must be JSON numbers (RFC 7662 §2.2: NumericDate);
// string members must be strings.
var (
	numericMembers = []string{"exp", "iat", "nbf"}
	stringMembers  = []string{"scope", "client_id", "username", "token_type", "sub", "iss", "jti"}
)

// ParseResponse checks an introspection answer's body strictly: a JSON
// object whose "active" is a JSON boolean (the string "true" is not), and
// whose registered members have their registered types. Anything else is
// OAUTH_PROVIDER_INVALID_RESPONSE with the member named: a provider that
// answers something else must never be mistaken for "inactive", nor
// "active".
func ParseResponse(body []byte) (*Answer, error) {
	invalid := func(format string, args ...any) error {
		return errcode.New(errcode.ProviderInvalidResp, "introspection answer: "+format, args...).With("body_excerpt", provider.Excerpt(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, invalid("not a JSON object: %v", err)
	}
	if obj == nil {
		return nil, invalid("not a JSON object: null")
	}
	if dec.More() {
		return nil, invalid("trailing data after the JSON object")
	}
	raw, ok := obj["active"]
	if !ok {
		return nil, invalid(`"active" is missing (RFC 7662 §2.2: REQUIRED)`)
	}
	active, ok := raw.(bool)
	if !ok {
		return nil, invalid(`"active" is %s, not a JSON boolean (RFC 7662 §2.2)`, describe(raw))
	}
	delete(obj, "active")
	if !active {
		return &Answer{Active: false}, nil
	}
	for _, m := range numericMembers {
		v, present := obj[m]
		if !present {
			continue
		}
		n, ok := v.(json.Number)
		if !ok {
			return nil, invalid("%q is %s, not a number (RFC 7662 §2.2)", m, describe(v))
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || f < 0 {
			return nil, invalid("%q is not a valid NumericDate", m)
		}
		obj[m] = f
	}
	for _, m := range stringMembers {
		if v, present := obj[m]; present {
			if _, ok := v.(string); !ok {
				return nil, invalid("%q is %s, not a string (RFC 7662 §2.2)", m, describe(v))
			}
		}
	}
	if v, present := obj["aud"]; present {
		switch a := v.(type) {
		case string:
		case []any:
			for _, x := range a {
				if _, ok := x.(string); !ok {
					return nil, invalid(`"aud" holds %s, not strings`, describe(x))
				}
			}
		default:
			return nil, invalid(`"aud" is %s, not a string or an array of strings`, describe(v))
		}
	}
	return &Answer{Active: true, Claims: obj}, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 20 {
			x = x[:20] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
