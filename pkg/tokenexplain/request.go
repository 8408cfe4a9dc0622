// Package tokenexplain explains an OAuth provider's answers at the gateway
// (authkit-oauth-explain): it parses token and authorization requests,
// checks them against optional allow-lists, and classifies the provider's
// response into a catalog code, so "An invalid OAuth response was
// received" becomes "the redirect URI does not match", "the client secret
// is wrong", "the provider sent an HTML page"…
package tokenexplain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// Kind tells a token request from an authorization request.
type Kind int

const (
	// Other is neither (passed through unexplained).
	Other Kind = iota
	// Token is a token-endpoint request (RFC 6749 §3.2: POST, form body).
	Token
	// Authorization is an authorization-endpoint request (§3.1: GET with response_type).
	Authorization
)

// Request is what the gateway knows of the client's request. Secrets
// (client secret, code, refresh token, password) are kept only as
// fingerprints.
type Request struct {
	Kind         Kind
	GrantType    string
	ResponseType string
	ClientID     string
	// ClientAuth is "client_secret_basic", "client_secret_post" or "none".
	ClientAuth  string
	RedirectURI string
	Scopes      []string
	// CodeFingerprint identifies the authorization code in logs.
	CodeFingerprint string
	// Problem is set when the request itself is malformed (RFC 6749 §3.1,
	// §3.2, §2.3.1); it is reported only with `enforce`, or to explain the
	// provider's invalid_request.
	Problem string
}

// Parse errors. ErrMalformed wraps ErrNotOAuth: a caller that only wants
// "a request I can explain or not" can test for ErrNotOAuth alone.
var (
	ErrNotOAuth  = errors.New("not an OAuth token or authorization request")
	ErrMalformed = fmt.Errorf("%w: it cannot be parsed", ErrNotOAuth)
)

const formType = "application/x-www-form-urlencoded"

// tokenParamsInQuery are the token-request parameters that must not come
// in the query string (RFC 6749 §3.2: the client uses POST and the body):
// a provider that merges query and body (servlet getParameter, Go's
// r.Form) could read them where the gateway did not check them.
var tokenParamsInQuery = []string{"grant_type", "client_id", "client_secret", "redirect_uri", "scope", "code", "refresh_token"}

// Parse reads a request to a provider's token or authorization endpoint the
// way the provider will, and strictly: anything it cannot parse is
// ErrMalformed, never "not OAuth", so that `enforce` can refuse what it
// cannot check instead of passing it on unchecked. A request that is
// neither kind gives nil, nil.
//
//   - The query and a form body are parsed by net/url, as Go providers
//     (Hydra, via net/http) parse them: a bad %-escape or a ';' is
//     malformed.
//   - A body must be application/x-www-form-urlencoded (RFC 6749 §3.2,
//     §4.1.3): a multipart, JSON or untyped body is malformed, even though
//     some providers (Hydra's form parser) read multipart too.
//   - A form with response_type and no grant_type is an authorization
//     request sent with POST (OpenID Connect Core §3.1.2.1); its parameters
//     are the body's and the query's together, as the provider merges them.
//   - A token request's parameters belong in the body; one in the query is
//     reported as a problem.
//   - Client credentials in the Authorization header must decode as HTTP
//     Basic (RFC 6749 §2.3.1); a Basic header that does not is malformed.
func Parse(contentType, rawQuery string, body []byte, authorization string) (*Request, error) {
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query string: %v", ErrMalformed, err)
	}
	mt := ""
	if contentType != "" {
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, fmt.Errorf("%w: Content-Type %q: %v", ErrMalformed, contentType, err)
		}
	}
	// An empty body is no form, whatever the Content-Type says: a GET to
	// the authorization endpoint may carry a stray form Content-Type.
	var form url.Values
	if len(body) > 0 {
		if mt != formType {
			what := "a body without Content-Type"
			if mt != "" {
				what = fmt.Sprintf("a %s body", mt)
			}
			return nil, fmt.Errorf("%w: %s, not %s (RFC 6749 §3.2)", ErrMalformed, what, formType)
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("%w: form body: %v", ErrMalformed, err)
		}
	}
	_, formGrant := form["grant_type"]
	_, formResponse := form["response_type"]
	_, queryResponse := query["response_type"]
	_, queryGrant := query["grant_type"]
	switch {
	case formResponse && !formGrant:
		merged := url.Values{}
		for _, src := range []url.Values{form, query} { // net/http's r.Form order
			for k, v := range src {
				merged[k] = append(merged[k], v...)
			}
		}
		return authorizationFrom(merged), nil
	case form != nil || queryGrant:
		if form == nil {
			form = url.Values{}
		}
		r, err := tokenFrom(form, authorization)
		if err != nil {
			return nil, err
		}
		var problems []string
		for _, name := range tokenParamsInQuery {
			if _, ok := query[name]; ok {
				problems = append(problems, fmt.Sprintf("parameter %q in the query string of a token request (RFC 6749 §3.2: the body)", name))
			}
		}
		r.addProblems(problems...)
		return r, nil
	case queryResponse:
		return authorizationFrom(query), nil
	}
	return nil, nil
}

// ParseToken reads a token request: a POST with an
// application/x-www-form-urlencoded body (RFC 6749 §4.1.3, §4.3.2, §4.4.2,
// §6) and client credentials from HTTP Basic or the body (§2.3.1).
func ParseToken(method, contentType string, body []byte, authorization string) (*Request, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if !strings.EqualFold(method, "POST") || mt != formType {
		return nil, ErrNotOAuth
	}
	r, err := Parse(contentType, "", body, authorization)
	if err == nil && (r == nil || r.Kind != Token) {
		return nil, ErrNotOAuth
	}
	return r, err
}

// ParseAuthorization reads an authorization request from its query string
// (RFC 6749 §4.1.1, §4.2.1).
func ParseAuthorization(method, rawQuery string) (*Request, error) {
	if !strings.EqualFold(method, "GET") && !strings.EqualFold(method, "POST") {
		return nil, ErrNotOAuth
	}
	r, err := Parse("", rawQuery, nil, "")
	if err == nil && (r == nil || r.Kind != Authorization) {
		return nil, ErrNotOAuth
	}
	return r, err
}

func (r *Request) addProblems(p ...string) {
	if len(p) == 0 {
		return
	}
	if r.Problem != "" {
		p = append([]string{r.Problem}, p...)
	}
	r.Problem = strings.Join(p, "; ")
}

// tokenFrom builds a token request from its form.
func tokenFrom(form url.Values, authorization string) (*Request, error) {
	r := &Request{Kind: Token, ClientAuth: "none"}
	var problems []string
	one := func(name string) string {
		v := form[name]
		if len(v) > 1 { // §3.2: parameters MUST NOT be included more than once
			problems = append(problems, fmt.Sprintf("parameter %q given %d times", name, len(v)))
		}
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	r.GrantType = one("grant_type")
	r.RedirectURI = one("redirect_uri")
	r.Scopes = strings.Fields(one("scope"))
	if code := one("code"); code != "" {
		r.CodeFingerprint = secret.Fingerprint(code)
	}
	bodyID, bodySecret := one("client_id"), one("client_secret")
	one("refresh_token")
	one("code_verifier")

	user, _, basic, err := basicClient(authorization)
	if err != nil {
		return nil, err
	}
	if basic {
		r.ClientID, r.ClientAuth = user, "client_secret_basic"
		if bodySecret != "" { // §2.3.1: MUST NOT use more than one authentication method
			problems = append(problems, "client credentials in both the Authorization header and the body")
		}
		if bodyID != "" && bodyID != user {
			problems = append(problems, fmt.Sprintf("client_id %q in the body differs from %q in the Authorization header", bodyID, user))
		}
	} else {
		r.ClientID = bodyID
		if bodySecret != "" {
			r.ClientAuth = "client_secret_post"
		}
	}
	if r.GrantType == "" {
		problems = append(problems, "grant_type missing")
	}
	if r.GrantType == "authorization_code" && form.Get("code") == "" {
		problems = append(problems, "code missing for grant_type authorization_code")
	}
	r.addProblems(problems...)
	return r, nil
}

// basicClient decodes client credentials sent with HTTP Basic. RFC 6749
// §2.3.1: the client id and secret are form-urlencoded before Basic
// encoding, so they are unescaped here. A header with another scheme (or
// none) is not Basic; a Basic header that does not decode is malformed:
// the gateway and the provider would not agree on the client. The Basic
// grammar is net/http's Request.BasicAuth, which Go providers use: exactly
// one space after the scheme, standard base64 with padding.
func basicClient(authorization string) (id, secretValue string, ok bool, err error) {
	scheme, token, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	malformed := func(why string) (string, string, bool, error) {
		return "", "", false, fmt.Errorf("%w: Basic client credentials %s (RFC 6749 §2.3.1)", ErrMalformed, why)
	}
	raw, derr := base64.StdEncoding.DecodeString(token)
	if derr != nil {
		return malformed("are not base64")
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return malformed("have no colon")
	}
	du, err1 := url.QueryUnescape(u)
	dp, err2 := url.QueryUnescape(p)
	if err1 != nil || err2 != nil {
		return malformed("are not form-urlencoded")
	}
	if du == "" {
		return malformed("have an empty client id")
	}
	return du, dp, true, nil
}

// authorizationFrom builds an authorization request (RFC 6749 §4.1.1,
// §4.2.1) from its parameters.
func authorizationFrom(q url.Values) *Request {
	r := &Request{Kind: Authorization, ResponseType: q.Get("response_type"), ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), Scopes: strings.Fields(q.Get("scope")), ClientAuth: "none"}
	var problems []string
	for _, name := range []string{"response_type", "client_id", "redirect_uri", "scope", "state"} {
		if len(q[name]) > 1 {
			problems = append(problems, fmt.Sprintf("parameter %q given %d times", name, len(q[name])))
		}
	}
	if r.ClientID == "" {
		problems = append(problems, "client_id missing")
	}
	r.addProblems(problems...)
	return r
}
