package accesstoken

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Header is the JOSE header of a JWS (RFC 7515 §4), as far as a resource
// server needs it.
//
// "jku", "x5u", "jwk" and "x5c" are never followed or used: a key named by
// the token itself is chosen by whoever made the token (RFC 8725 §3.10,
// the SSRF and key-injection attacks). Keys come only from the configured
// jwks.Source, by "kid".
type Header struct {
	Alg string // RFC 7515 §4.1.1
	Typ string // RFC 7515 §4.1.9; "at+jwt" for RFC 9068 access tokens
	Kid string // RFC 7515 §4.1.4
	// Raw is every header parameter as decoded.
	Raw map[string]any
}

// ParseHeader decodes the first segment of a compact JWS: base64url without
// padding (RFC 7515 §2), then a JSON object. A bad segment, an "alg", "typ"
// or "kid" that is not a string, and any "crit" are OAUTH_TOKEN_MALFORMED:
// RFC 7515 §4.1.11 requires refusing a JWS whose critical extensions are not
// understood, and this verifier understands none (b64:false of RFC 7797
// included). The "alg" value is judged by the Verifier, not here.
func ParseHeader(segment string) (*Header, error) {
	b, err := decodeSegment(segment, "header")
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		e := errcode.New(errcode.TokenMalformed, "header is not valid JSON: %v", err).With("part", "header")
		e.Err = err
		return nil, e
	}
	if raw == nil {
		return nil, errcode.New(errcode.TokenMalformed, "header is not a JSON object").With("part", "header")
	}
	if _, ok := raw["crit"]; ok {
		return nil, errcode.New(errcode.TokenMalformed, "header has crit: no JWS extension is supported").
			With("part", "header")
	}
	h := &Header{Raw: raw}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"alg", &h.Alg}, {"typ", &h.Typ}, {"kid", &h.Kid}} {
		v, ok := raw[f.name]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return nil, errcode.New(errcode.TokenMalformed, "header parameter %s is not a string", f.name).
				With("part", "header").With("param", f.name)
		}
		*f.dst = s
	}
	return h, nil
}

// isATJWT reports whether typ is the RFC 9068 §2.1 access-token type. Media
// types compare case-insensitively and the "application/" prefix is
// optional (RFC 7515 §4.1.9).
func isATJWT(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}

// segmentEncoding is base64url without padding; Strict refuses non-zero
// trailing bits so one token has exactly one spelling.
var segmentEncoding = base64.RawURLEncoding.Strict()

func decodeSegment(seg, part string) ([]byte, error) {
	if seg == "" {
		return nil, errcode.New(errcode.TokenMalformed, "%s segment is empty", part).With("part", part)
	}
	b, err := segmentEncoding.DecodeString(seg)
	if err != nil {
		return nil, errcode.New(errcode.TokenMalformed, "%s segment is not base64url: %v", part, err).With("part", part)
	}
	return b, nil
}
