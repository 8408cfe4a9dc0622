package accesstoken

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Claims are the claims of a verified access token: a JWT payload (RFC 9068
// §2.2) or, later, an RFC 7662 §2.2 introspection answer, which uses the
// same member names. Claims returned by a Verifier are shared with its cache
// and must be treated as read-only.
type Claims struct {
	Issuer    string // "iss", RFC 7519 §4.1.1
	Subject   string // "sub", RFC 7519 §4.1.2
	ClientID  string // "client_id", RFC 9068 §2.2 / RFC 8693 §4.3
	AZP       string // "azp", OpenID Connect Core §2 (client_id stand-in)
	JTI       string // "jti", RFC 7519 §4.1.7
	TokenType string // the JOSE "typ" header (RFC 9068 §2.1), "" for introspection
	Audience  []string
	// Expiry, NotBefore and IssuedAt are nil when the claim is absent
	// (RFC 7519 §4.1.4–4.1.6).
	Expiry    *time.Time
	NotBefore *time.Time
	IssuedAt  *time.Time
	// Scopes comes from "scope" (a space-delimited string, RFC 9068 §2.2.3,
	// RFC 8693 §4.2) or, when that is absent, "scp" (array or string, as
	// Azure AD and Okta send it). A Policy with custom ScopeClaims reads Raw.
	Scopes []string
	// Raw is every claim as decoded; numbers are json.Number so that large
	// integer claims keep their exact value.
	Raw map[string]any
}

// Get returns the raw value of a claim, or nil when it is absent.
func (c *Claims) Get(name string) any {
	if c == nil {
		return nil
	}
	return c.Raw[name]
}

// defaultScopeClaims is the lookup order of Claims.Scopes.
var defaultScopeClaims = []string{"scope", "scp"}

// ParseClaims decodes a JWT payload (or a JSON introspection answer) and
// types the registered claims. Anything that is not a JSON object, a string
// claim that is not a string, an "aud" that is neither a string nor an
// array of strings, or a time claim that is not a NumericDate (RFC 7519 §2:
// a JSON number of seconds) is OAUTH_TOKEN_MALFORMED naming the claim.
//
// Duplicate member names: RFC 7519 §4 allows parsers that keep the last
// one, which is what encoding/json does.
func ParseClaims(payload []byte) (*Claims, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var raw map[string]any
	if err := d.Decode(&raw); err != nil {
		return nil, errcode.Wrapf(errcode.TokenMalformed, err, "payload is not valid JSON: %v", err).With("part", "payload")
	}
	if raw == nil {
		return nil, errcode.New(errcode.TokenMalformed, "payload is not a JSON object").With("part", "payload")
	}
	if d.More() {
		return nil, errcode.New(errcode.TokenMalformed, "trailing data after the payload object").With("part", "payload")
	}
	return ClaimsFromMap(raw)
}

// ClaimsFromMap types the registered claims of an already decoded object
// (numbers may be json.Number, float64 or any Go integer). raw is kept as
// Claims.Raw, not copied.
func ClaimsFromMap(raw map[string]any) (*Claims, error) {
	c := &Claims{Raw: raw}
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{"iss", &c.Issuer}, {"sub", &c.Subject}, {"client_id", &c.ClientID}, {"azp", &c.AZP}, {"jti", &c.JTI}} {
		if *f.dst, err = stringClaim(raw, f.name); err != nil {
			return nil, err
		}
	}
	if c.Audience, err = stringsClaim(raw, "aud", false); err != nil {
		return nil, err
	}
	if c.Expiry, err = timeClaim(raw, "exp"); err != nil {
		return nil, err
	}
	if c.NotBefore, err = timeClaim(raw, "nbf"); err != nil {
		return nil, err
	}
	if c.IssuedAt, err = timeClaim(raw, "iat"); err != nil {
		return nil, err
	}
	if c.Scopes, _, err = scopesOf(raw, defaultScopeClaims); err != nil {
		return nil, err
	}
	return c, nil
}

func malformedClaim(name, why string) error {
	return errcode.New(errcode.TokenMalformed, "%s claim %s", name, why).With("claim", name)
}

func stringClaim(raw map[string]any, name string) (string, error) {
	v, ok := raw[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", malformedClaim(name, "is not a string")
	}
	return s, nil
}

// stringsClaim reads a claim that is a string or an array of strings (RFC
// 7519 §4.1.3 for "aud"). With split, a string is a space-delimited list
// (the "scope" form); otherwise it is a single value.
func stringsClaim(raw map[string]any, name string, split bool) ([]string, error) {
	switch v := raw[name].(type) {
	case nil:
		if _, present := raw[name]; present {
			return nil, malformedClaim(name, "is null")
		}
		return nil, nil
	case string:
		if split {
			return strings.Fields(v), nil
		}
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, malformedClaim(name, "contains a non-string element")
			}
			out[i] = s
		}
		return out, nil
	case []string:
		return v, nil
	default:
		return nil, malformedClaim(name, "is neither a string nor an array of strings")
	}
}

// scopesOf returns the scopes of the first claim of names that is present,
// and whether any was.
func scopesOf(raw map[string]any, names []string) ([]string, bool, error) {
	for _, n := range names {
		if _, ok := raw[n]; ok {
			s, err := stringsClaim(raw, n, true)
			return s, true, err
		}
	}
	return nil, false, nil
}

// maxNumericDate is 9999-12-31T23:59:59Z: beyond it a NumericDate is
// nonsense and would overflow time arithmetic.
const maxNumericDate = 253402300799

// timeClaim reads a NumericDate (RFC 7519 §2): a JSON number of seconds,
// possibly fractional. A string ("1700000000"), a bool or an out-of-range
// number is malformed rather than ignored: ignoring a bad "exp" would turn
// an expiring token into an immortal one.
func timeClaim(raw map[string]any, name string) (*time.Time, error) {
	v, ok := raw[name]
	if !ok {
		return nil, nil
	}
	var f float64
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			if i < 0 || i > maxNumericDate {
				return nil, malformedClaim(name, "is out of range")
			}
			t := time.Unix(i, 0)
			return &t, nil
		}
		var err error
		if f, err = n.Float64(); err != nil {
			return nil, malformedClaim(name, "is not a number")
		}
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	case uint64:
		f = float64(n)
	default:
		return nil, malformedClaim(name, "is not a NumericDate (a JSON number)")
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return nil, malformedClaim(name, "is out of range")
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(frac*1e9))
	return &t, nil
}
