package gateway

import (
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// A Challenge builds the WWW-Authenticate value for a refusal, or "" for
// none.
type Challenge func(e *errcode.Error) string

// BasicChallenge is RFC 7617 §2 with the charset parameter of §2.1, sent
// with 401 refusals only (a 400 for malformed credentials or a 429 lockout
// is not an authentication challenge).
func BasicChallenge(realm string) Challenge {
	v := `Basic realm="` + QuoteSafe(realm) + `", charset="UTF-8"`
	return func(e *errcode.Error) string {
		if e.Code.Status() != 401 {
			return ""
		}
		return v
	}
}

// KeyChallenge is Kong key-auth's `Key realm="…"` (or bare `Key`).
func KeyChallenge(realm string) Challenge {
	v := "Key"
	if realm != "" {
		v = `Key realm="` + QuoteSafe(realm) + `"`
	}
	return func(e *errcode.Error) string {
		if e.Code.Status() != 401 {
			return ""
		}
		return v
	}
}

// BearerChallenge follows RFC 6750 §3: a request without a token gets a
// challenge with no error information (§3.1 "SHOULD NOT include an error
// code"); invalid_request (400), invalid_token (401) and
// insufficient_scope (403, with scope=) carry error and
// error_description, plus the extension parameter error_code with the
// catalog code (RFC 7235 §2.1 auth-params; unknown ones are ignored by
// clients). Provider and gateway failures (5xx) get no challenge: the
// token was not shown to be bad.
func BearerChallenge(realm string) Challenge {
	return func(e *errcode.Error) string {
		ent := e.Code.Entry()
		if ent.Status >= 500 {
			return ""
		}
		return tokenChallenge("Bearer", realm, "", e, ent)
	}
}

// tokenChallenge is an RFC 6750 §3 style challenge of scheme (Bearer, or
// DPoP per RFC 9449 §7.1): realm; for a refusal with an error value,
// error, error_description and (for insufficient_scope) scope; algs when
// given (DPoP); then the catalog code as error_code.
func tokenChallenge(scheme, realm, algs string, e *errcode.Error, ent errcode.Entry) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	param := func(k, v string) {
		b.WriteString(sep)
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(QuoteSafe(v))
		b.WriteString(`"`)
		sep = ", "
	}
	if realm != "" {
		param("realm", realm)
	}
	if ent.BearerError != "" {
		param("error", ent.BearerError)
		param("error_description", ent.Message)
		if s, ok := e.Field("required_scope").(string); ok && ent.BearerError == "insufficient_scope" && s != "" {
			param("scope", s)
		}
	}
	if algs != "" {
		param("algs", algs)
	}
	if ent.BearerError != "" {
		param("error_code", string(ent.Code))
	}
	return b.String()
}

// QuoteSafe keeps only the characters RFC 6750 §3 allows inside a quoted
// parameter value (%x20-21 / %x23-5B / %x5D-7E): no `"`, no `\`, no
// control or non-ASCII characters, so a configured realm or a scope name
// cannot break the header.
func QuoteSafe(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
