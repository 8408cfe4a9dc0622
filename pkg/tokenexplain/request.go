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

// Parse errors.
var ErrNotOAuth = errors.New("not an OAuth token or authorization request")

// ParseToken reads a token request: a POST with an
// application/x-www-form-urlencoded body (RFC 6749 §4.1.3, §4.3.2, §4.4.2,
// §6) and client credentials from HTTP Basic or the body (§2.3.1).
func ParseToken(method, contentType string, body []byte, authorization string) (*Request, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if !strings.EqualFold(method, "POST") || mt != "application/x-www-form-urlencoded" {
		return nil, ErrNotOAuth
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body: %v", ErrNotOAuth, err)
	}
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

	if user, _, ok := basicClient(authorization); ok {
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
	r.Problem = strings.Join(problems, "; ")
	return r, nil
}

// basicClient decodes client credentials sent with HTTP Basic. RFC 6749
// §2.3.1: the client id and secret are form-urlencoded before Basic
// encoding, so they are unescaped here.
func basicClient(authorization string) (id, secretValue string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return "", "", false
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if du, err := url.QueryUnescape(u); err == nil {
		u = du
	}
	if dp, err := url.QueryUnescape(p); err == nil {
		p = dp
	}
	return u, p, u != ""
}

// ParseAuthorization reads an authorization request from its query string
// (RFC 6749 §4.1.1, §4.2.1).
func ParseAuthorization(method, rawQuery string) (*Request, error) {
	if !strings.EqualFold(method, "GET") && !strings.EqualFold(method, "POST") {
		return nil, ErrNotOAuth
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil || q.Get("response_type") == "" {
		return nil, ErrNotOAuth
	}
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
	r.Problem = strings.Join(problems, "; ")
	return r, nil
}
