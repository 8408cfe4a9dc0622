package accesstoken

import "github.com/kong-authkit/kong-authkit/pkg/errcode"

// Confirmation holds the members of a token's "cnf" claim (RFC 7800 §3.1)
// that bind it to a key the client must prove it holds. Both come the same
// way from a JWT access token and from an RFC 7662 introspection answer
// (RFC 9449 §6.2, RFC 8705 §3.2).
type Confirmation struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the client's DPoP key,
	// base64url (RFC 9449 §6.1).
	JKT string
	// X5TS256 is the base64url SHA-256 of the client's DER certificate
	// (RFC 8705 §3.1, "x5t#S256").
	X5TS256 string
}

// ConfirmationOf reads cnf. An absent cnf binds nothing; a cnf that is not
// an object, or a jkt or x5t#S256 that is not a non-empty string, is
// OAUTH_TOKEN_MALFORMED: a binding that cannot be read must not turn into
// no binding at all.
func ConfirmationOf(c *Claims) (Confirmation, error) {
	var out Confirmation
	v, ok := c.Raw["cnf"]
	if !ok {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return out, malformedClaim("cnf", "is not a JSON object")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"jkt", &out.JKT}, {"x5t#S256", &out.X5TS256}} {
		x, present := m[f.name]
		if !present {
			continue
		}
		s, ok := x.(string)
		if !ok || s == "" {
			return Confirmation{}, errcode.New(errcode.TokenMalformed, "cnf.%s is not a non-empty string", f.name).With("claim", "cnf."+f.name)
		}
		*f.dst = s
	}
	return out, nil
}
