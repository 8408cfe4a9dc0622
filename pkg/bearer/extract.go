// Package bearer finds the one bearer token of a request (RFC 6750 §2).
// It takes plain strings — the caller reads the header, query parameter and
// cookie through the gateway — and returns the token, where it came from, or
// a catalog error saying exactly why the request carries no usable token.
package bearer

import (
	"strconv"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Where a token was found; the second result of Extract.
const (
	SourceHeader = "header"
	SourceQuery  = "query"
	SourceCookie = "cookie"
)

// MaxTokenLen bounds the accepted token (8 KiB). Real access tokens are a
// few kilobytes at most; a longer one is refused as OAUTH_TOKEN_MALFORMED
// before any hashing, parsing or cache work.
const MaxTokenLen = 8 << 10

// maxSchemeLog bounds the foreign scheme name echoed into a log field: it is
// client input.
const maxSchemeLog = 32

// Input is what the caller read from the request. A nil slice means the
// source is switched off (or, for Authorization, that no header was sent);
// an empty string inside a slice means the source was present but empty.
type Input struct {
	// Authorization holds every value of the Authorization header, in order,
	// exactly as received (one element per header line).
	Authorization []string
	// Query holds every value of the configured query parameter, already
	// percent-decoded; nil when the query source is off or the parameter
	// is absent (RFC 6750 §2.3).
	Query []string
	// Cookie holds every value of the configured token cookie; nil when the
	// cookie source is off or the cookie is absent. It is a slice because a
	// Cookie header can repeat a name, and two values are two tokens.
	Cookie []string
	// AcceptDPoP takes `Authorization: DPoP <token>` (RFC 9449 §7.1) as a
	// token too; Credential.Scheme then tells the two apart. Off, DPoP is
	// another scheme like Basic.
	AcceptDPoP bool
}

// Authorization schemes of a token from the header (Credential.Scheme).
const (
	SchemeBearer = "Bearer"
	SchemeDPoP   = "DPoP"
)

// Credential is the request's token and how it came.
type Credential struct {
	Token  string
	Source string // SourceHeader, SourceQuery or SourceCookie
	// Scheme is SchemeDPoP for `Authorization: DPoP`, else SchemeBearer
	// (query parameters and cookies are bearer tokens, RFC 6750 §2.2, §2.3).
	Scheme string
}

// Extract returns the request's bearer token and its source (SourceHeader,
// SourceQuery or SourceCookie).
//
// RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the
// token in each request", so a token in two places, two Authorization
// headers, two query values or two cookies is OAUTH_REQUEST_INVALID (400,
// invalid_request, §3.1) — never "pick the first", which would let a proxy
// and a client disagree about which token authorised the request.
//
// Decisions (RFC 6750 §2.1 and §3.1):
//   - No token anywhere → OAUTH_TOKEN_MISSING (401, challenge without an
//     error code, §3.1: "If the request lacks any authentication
//     information … the resource server SHOULD NOT include an error code").
//   - An Authorization header with another scheme (Basic, Digest, …) and no
//     token elsewhere is the same case: the request lacks bearer
//     credentials ("uses another method", §3.1), so it gets the bare 401
//     challenge that tells the client which scheme to use. The log record
//     names the scheme. An empty or blank Authorization header carries no
//     credentials at all and is treated as absent.
//   - Another scheme next to a token in the query or a cookie is two
//     credentials in one request: OAUTH_REQUEST_INVALID (400), as is any
//     second token (§2: one method only).
//   - The scheme is matched case-insensitively (RFC 7235 §2.1); scheme and
//     token are separated by 1*SP; surrounding OWS (SP, HTAB) is trimmed.
//   - A Bearer header's token must be one b64token (§2.1: 1*( ALPHA /
//     DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="); empty, several
//     words, or any other character → OAUTH_REQUEST_INVALID (a malformed
//     Bearer header, §3.1 invalid_request). An empty query value or cookie
//     counts as a malformed token, not as an absent one.
//   - A token longer than MaxTokenLen → OAUTH_TOKEN_MALFORMED.
//
// Error fields never contain the token; they name the source, the count, the
// length or the offending position.
func Extract(in Input) (token, source string, err error) {
	c, err := ExtractCredential(in)
	return c.Token, c.Source, err
}

// ExtractCredential is Extract that also reports the scheme. With
// AcceptDPoP, `DPoP` is a token scheme (RFC 9449 §7.1: its token68 has the
// b64token grammar of RFC 6750 §2.1), matched case-insensitively like
// Bearer; every rule of Extract applies to it as to Bearer.
func ExtractCredential(in Input) (Credential, error) {
	token, source, scheme, err := extract(in)
	return Credential{Token: token, Source: source, Scheme: scheme}, err
}

func extract(in Input) (token, source, tokenScheme string, err error) {
	switch {
	case len(in.Authorization) > 1:
		return "", "", "", errcode.New(errcode.RequestInvalid, "%d Authorization headers", len(in.Authorization)).
			With("source", SourceHeader).With("count", len(in.Authorization))
	case len(in.Query) > 1:
		return "", "", "", errcode.New(errcode.RequestInvalid, "query parameter repeated %d times", len(in.Query)).
			With("source", SourceQuery).With("count", len(in.Query))
	case len(in.Cookie) > 1:
		return "", "", "", errcode.New(errcode.RequestInvalid, "token cookie repeated %d times", len(in.Cookie)).
			With("source", SourceCookie).With("count", len(in.Cookie))
	}

	// foreign is the scheme of an Authorization header that is not Bearer:
	// credentials, but not bearer credentials.
	foreign := ""
	if len(in.Authorization) == 1 {
		v := strings.Trim(in.Authorization[0], " \t")
		scheme, other := schemeOf(v)
		if other && !(in.AcceptDPoP && strings.EqualFold(scheme, SchemeDPoP)) {
			foreign = scheme
		}
		tokenScheme = SchemeBearer
		if other && foreign == "" {
			tokenScheme = SchemeDPoP
		}
		if v == "" || foreign != "" {
			in.Authorization = nil
		}
	}

	n, source := 0, ""
	if len(in.Authorization) == 1 {
		n, source = n+1, SourceHeader
	}
	if len(in.Query) == 1 {
		n, source = n+1, SourceQuery
	}
	if len(in.Cookie) == 1 {
		n, source = n+1, SourceCookie
	}
	switch {
	case n == 0 && foreign != "":
		scheme := logScheme(foreign)
		return "", "", "", errcode.New(errcode.TokenMissing, "no bearer token: the Authorization header uses the %s scheme", scheme).
			With("source", SourceHeader).With("scheme", scheme)
	case n == 0:
		return "", "", "", errcode.New(errcode.TokenMissing, "no bearer token in the request")
	case foreign != "":
		return "", "", "", unsupportedScheme(foreign)
	case n > 1:
		return "", "", "", multiple(in)
	}

	switch source {
	case SourceHeader:
		tok, err := parseAuthorization(in.Authorization[0])
		if err != nil {
			return "", "", "", err
		}
		return tok, SourceHeader, tokenScheme, nil
	case SourceQuery:
		if err := checkToken(in.Query[0], SourceQuery); err != nil {
			return "", "", "", err
		}
		return in.Query[0], SourceQuery, SchemeBearer, nil
	default:
		if err := checkToken(in.Cookie[0], SourceCookie); err != nil {
			return "", "", "", err
		}
		return in.Cookie[0], SourceCookie, SchemeBearer, nil
	}
}

// multiple is the refusal for tokens sent by several methods (RFC 6750 §2).
func multiple(in Input) error {
	var sources []string
	if len(in.Authorization) == 1 {
		sources = append(sources, SourceHeader)
	}
	if len(in.Query) == 1 {
		sources = append(sources, SourceQuery)
	}
	if len(in.Cookie) == 1 {
		sources = append(sources, SourceCookie)
	}
	return errcode.New(errcode.RequestInvalid, "token sent by more than one method: %s", strings.Join(sources, ", ")).
		With("sources", sources)
}

// parseAuthorization splits `credentials = "Bearer" 1*SP b64token`
// (RFC 6750 §2.1) and checks the token. Extract has already set aside
// empty headers and other schemes.
func parseAuthorization(v string) (string, error) {
	v = strings.Trim(v, " \t") // OWS around a field value, RFC 9110 §5.5
	token := ""
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		token = strings.TrimLeft(v[i:], " ") // 1*SP; a tab is left to fail the grammar
	}
	if err := checkToken(token, SourceHeader); err != nil {
		return "", err
	}
	return token, nil
}

// schemeOf returns the auth-scheme of an Authorization value and whether it
// is one other than Bearer (RFC 7235 §2.1: compared case-insensitively).
func schemeOf(v string) (scheme string, foreign bool) {
	scheme = strings.TrimLeft(v, " \t")
	if i := strings.IndexAny(scheme, " \t"); i >= 0 {
		scheme = scheme[:i]
	}
	return scheme, scheme != "" && !strings.EqualFold(scheme, "Bearer")
}

// unsupportedScheme is the refusal for Basic, Digest or any other
// non-Bearer scheme sent next to a bearer token in the query or a cookie.
func unsupportedScheme(scheme string) error {
	scheme = logScheme(scheme)
	return errcode.New(errcode.RequestInvalid, "unsupported authorization scheme %s next to a bearer token", scheme).
		With("source", SourceHeader).With("scheme", scheme)
}

// logScheme cuts and quotes a foreign scheme name before it reaches a log
// field: it is client input.
func logScheme(scheme string) string {
	if len(scheme) > maxSchemeLog {
		scheme = scheme[:maxSchemeLog]
	}
	return strconv.QuoteToASCII(scheme)
}

// checkToken enforces the size bound and the b64token grammar.
func checkToken(tok, source string) error {
	if len(tok) > MaxTokenLen {
		return errcode.New(errcode.TokenMalformed, "token is %d bytes, the limit is %d", len(tok), MaxTokenLen).
			With("source", source).With("length", len(tok)).With("max_length", MaxTokenLen)
	}
	if tok == "" {
		return errcode.New(errcode.RequestInvalid, "empty bearer token").With("source", source)
	}
	if i := invalidAt(tok); i >= 0 {
		what := "an illegal character"
		if tok[i] == ' ' {
			what = "more than one token"
		}
		return errcode.New(errcode.RequestInvalid, "malformed bearer token: %s at offset %d", what, i).
			With("source", source).With("position", i)
	}
	return nil
}

// invalidAt returns the offset of the first byte that breaks
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=",
// or -1. The first byte cannot be "=" (the 1* part must not be empty).
func invalidAt(s string) int {
	i := 0
	for ; i < len(s); i++ {
		if !tokenChar[s[i]] {
			break
		}
	}
	if i == 0 {
		return 0
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return i
		}
	}
	return -1
}

var tokenChar = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~+/" {
		t[c] = true
	}
	return t
}()
