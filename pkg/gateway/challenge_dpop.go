package gateway

import (
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Challenges builds every challenge of a refusal; nil for none. A Policy
// with Challenges set uses it instead of Challenge and sends them in one
// WWW-Authenticate value, comma-separated.
type Challenges func(e *errcode.Error) []string

// FieldAuthScheme is the log field (and challenge hint) that says a token
// came with `Authorization: DPoP`: its refusal is then a DPoP challenge.
const FieldAuthScheme = "auth_scheme"

// DPoPChallenges builds the challenges of a resource server that takes
// DPoP-bound tokens (RFC 9449 §7.1). With bearer set (DPoP "optional") it
// also takes bearer tokens (RFC 6750 §3), and:
//
//   - a request without a token gets both challenges, without error
//     (RFC 6750 §3.1; RFC 9449 §7.1 "a resource server that supports both
//     ... challenges with both"), the DPoP one with algs;
//   - a refusal of a token that came with the DPoP scheme, and every
//     DPoP-specific refusal (invalid_dpop_proof, use_dpop_nonce, a token
//     bound to another key, a bound token sent as Bearer: §7.2), is a DPoP
//     challenge carrying error, error_description, algs and error_code;
//   - any other refusal of a bearer token is BearerChallenge's.
//
// Without bearer (DPoP "strict") every challenge is a DPoP one. Provider
// and gateway failures (5xx) get none: the token was not shown to be bad.
func DPoPChallenges(realm string, algs []string, bearer bool) Challenges {
	bearerCh := BearerChallenge(realm)
	algList := strings.Join(algs, " ")
	dpop := func(e *errcode.Error, ent errcode.Entry) string {
		return tokenChallenge("DPoP", realm, algList, e, ent)
	}
	return func(e *errcode.Error) []string {
		ent := e.Code.Entry()
		switch {
		case ent.Status >= 500:
			return nil
		case ent.BearerError == "" && bearer:
			return []string{bearerCh(e), dpop(e, ent)}
		case !bearer || dpopRefusal(e, ent):
			return []string{dpop(e, ent)}
		}
		return []string{bearerCh(e)}
	}
}

// dpopRefusal: the refusal concerns DPoP, so the client is told to use it.
func dpopRefusal(e *errcode.Error, ent errcode.Entry) bool {
	if s, _ := e.Field(FieldAuthScheme).(string); s == "DPoP" {
		return true
	}
	switch ent.Code {
	case errcode.DPoPKeyMismatch, errcode.DPoPTokenNotBound, errcode.DPoPDowngrade:
		return true
	}
	return ent.BearerError == errcode.ErrInvalidDPoPProof || ent.BearerError == errcode.ErrUseDPoPNonce
}
