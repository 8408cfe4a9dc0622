package tokenexplain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// Verdict is the explanation of one provider answer.
type Verdict struct {
	// Err is the code and detail; nil means a valid, successful answer.
	Err *errcode.Error
	// Unusable marks an answer that is not valid OAuth at all (HTML, not
	// JSON, no access_token…): the only kind `rewrite_invalid_responses`
	// replaces. An OAuth error answer is valid OAuth and is never replaced.
	Unusable bool
	// Usable marks an Err about a successful answer the client can use
	// (a token response without Cache-Control: no-store): a warning, the
	// exchange's outcome is accepted.
	Usable bool
}

// errorCodes maps RFC 6749 §5.2 and §4.1.2.1 error values to catalog codes.
var errorCodes = map[string]errcode.Code{
	"invalid_request":           errcode.TokenRequestInvalid,
	"invalid_client":            errcode.ClientAuthFailed,
	"invalid_grant":             errcode.InvalidGrant,
	"unauthorized_client":       errcode.UnauthorizedClient,
	"unsupported_grant_type":    errcode.UnsupportedGrantType,
	"unsupported_response_type": errcode.UnauthorizedClient,
	"invalid_scope":             errcode.InvalidScope,
	"access_denied":             errcode.AccessDenied,
	"server_error":              errcode.ProviderError,
	"temporarily_unavailable":   errcode.ProviderError,
}

// redirectMention finds a provider's description that blames the redirect
// URI (Hydra: "… 'redirect_uri' from this request does not match the one
// from the authorize request.", Keycloak: "Incorrect redirect_uri", …).
var redirectMention = regexp.MustCompile(`(?i)redirect[ _-]?ur[il]`)

// MaxBody bounds how much of a response is examined.
const MaxBody = 1 << 20

// Classify explains the provider's answer to r (nil r: unknown request).
func Classify(r *Request, p *Policy, status int, header http.Header, body []byte) Verdict {
	if r != nil && r.Kind == Authorization {
		return classifyAuthorization(r, p, status, header, body)
	}
	return classifyToken(r, p, status, header, body)
}

func invalid(status int, header http.Header, body []byte, format string, args ...any) Verdict {
	e := errcode.New(errcode.ProviderInvalidResp, format, args...).
		With("status", status).With("content_type", header.Get("Content-Type"))
	if len(body) > 0 {
		e = e.With("body_excerpt", provider.Excerpt(body))
	}
	return Verdict{Err: e, Unusable: true}
}

func isJSON(header http.Header) bool {
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func classifyToken(r *Request, p *Policy, status int, header http.Header, body []byte) Verdict {
	if len(body) > MaxBody {
		return invalid(status, header, body[:256], "response body larger than %d bytes", MaxBody)
	}
	switch {
	case status >= 500:
		e := errcode.New(errcode.ProviderError, "token endpoint answered %d", status).With("status", status)
		if len(body) > 0 {
			e = e.With("body_excerpt", provider.Excerpt(body))
		}
		return Verdict{Err: e}
	case status >= 300 && status < 400:
		return invalid(status, header, nil, "token endpoint answered a %d redirect to %q (RFC 6749 §5 answers with JSON)", status, redactLocation(header.Get("Location")))
	case status >= 400:
		return classifyError(r, p, status, header, body)
	case status < 200:
		return invalid(status, header, body, "unexpected status %d", status)
	}
	return classifySuccess(status, header, body)
}

// classifySuccess checks a 2xx token response against RFC 6749 §5.1.
func classifySuccess(status int, header http.Header, body []byte) Verdict {
	if !isJSON(header) {
		return invalid(status, header, body, "token response has content type %q, want application/json (RFC 6749 §5.1)", header.Get("Content-Type"))
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil {
		return invalid(status, header, body, "token response is not a JSON object: %v", err)
	}
	var s string
	raw, ok := obj["access_token"]
	switch {
	case !ok:
		return invalid(status, header, body, "token response has no access_token (RFC 6749 §5.1)")
	case json.Unmarshal(raw, &s) != nil:
		return invalid(status, header, body, "access_token is not a string")
	case s == "":
		return invalid(status, header, body, "access_token is empty")
	}
	raw, ok = obj["token_type"]
	switch {
	case !ok:
		return invalid(status, header, body, "token response has no token_type (RFC 6749 §5.1)")
	case json.Unmarshal(raw, &s) != nil || s == "":
		return invalid(status, header, body, "token_type is not a non-empty string")
	}
	if raw, ok := obj["expires_in"]; ok {
		var n float64
		if json.Unmarshal(raw, &n) != nil {
			return invalid(status, header, body, "expires_in is %s, not a number (RFC 6749 §5.1)", clip(string(raw)))
		}
	}
	if raw, ok := obj["scope"]; ok {
		if json.Unmarshal(raw, &s) != nil {
			return invalid(status, header, body, "scope is not a space-delimited string (RFC 6749 §5.1, §3.3)")
		}
	}
	if cc := strings.ToLower(header.Get("Cache-Control")); !strings.Contains(cc, "no-store") {
		// RFC 6749 §5.1 MUST, but the token is usable: explain, never rewrite.
		return Verdict{Err: errcode.New(errcode.ProviderInvalidResp, "token response lacks Cache-Control: no-store (RFC 6749 §5.1); tokens may be cached by intermediaries").
			With("status", status).With("cache_control", header.Get("Cache-Control")), Usable: true}
	}
	return Verdict{}
}

// classifyError maps an RFC 6749 §5.2 error answer.
func classifyError(r *Request, p *Policy, status int, header http.Header, body []byte) Verdict {
	if !isJSON(header) {
		return invalid(status, header, body, "token endpoint answered %d with content type %q, not an RFC 6749 §5.2 JSON error", status, header.Get("Content-Type"))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return invalid(status, header, body, "error response is not a JSON object: %v", err)
	}
	var name, desc string
	if raw, ok := obj["error"]; !ok || json.Unmarshal(raw, &name) != nil || name == "" {
		return invalid(status, header, body, "error response has no string \"error\" member (RFC 6749 §5.2)")
	}
	if raw, ok := obj["error_description"]; ok {
		_ = json.Unmarshal(raw, &desc)
	}
	return Verdict{Err: explainError(r, p, name, desc, status)}
}

// explainError picks the code for a provider error, using what the gateway
// saw of the request: invalid_grant caused by the redirect URI becomes
// OAUTH_REDIRECT_URI_MISMATCH.
func explainError(r *Request, p *Policy, name, desc string, status int) *errcode.Error {
	code, known := errorCodes[name]
	if !known {
		code = errcode.TokenRequestInvalid
		if status >= 500 {
			code = errcode.ProviderError
		}
	}
	var why string
	if r != nil {
		if r.RedirectURI != "" && p != nil && !p.RedirectAllowed(r.RedirectURI) && (name == "invalid_grant" || name == "invalid_request") {
			code, why = errcode.RedirectURIMismatch, fmt.Sprintf("; the request's redirect_uri %q is not in allowed_redirect_uris", r.RedirectURI)
		}
	}
	// The description counts only for a request that sent a redirect_uri:
	// Hydra's boilerplate for an unsupported grant also says "…whitelisted
	// the redirect_uri you specified", and a password or client-credentials
	// request cannot have a redirect URI mismatch.
	sentRedirect := r == nil || r.RedirectURI != ""
	if sentRedirect && (name == "invalid_grant" || name == "invalid_request") && redirectMention.MatchString(desc) {
		code, why = errcode.RedirectURIMismatch, "; the provider's description names the redirect URI"
	}
	e := errcode.New(code, "provider answered %d %s: %s%s", status, name, clip(desc), why).
		With("status", status).With("provider_error", name)
	if desc != "" {
		e = e.With("provider_error_description", clip(desc))
	}
	if r != nil {
		if r.ClientID != "" {
			e = e.With("client_id", r.ClientID)
		}
		if r.GrantType != "" {
			e = e.With("grant_type", r.GrantType)
		}
		if r.RedirectURI != "" {
			e = e.With("redirect_uri", r.RedirectURI)
		}
		if r.CodeFingerprint != "" {
			e = e.With("credential", r.CodeFingerprint)
		}
		if len(r.Scopes) > 0 {
			e = e.With("scopes", strings.Join(r.Scopes, " "))
		}
		if name == "invalid_client" {
			e = e.With("client_auth", r.ClientAuth)
		}
	}
	return e
}

// classifyAuthorization explains an authorization-endpoint answer: a
// redirect carrying error= (§4.1.2.1) or a page the provider shows instead
// of redirecting (an unregistered redirect_uri must not be redirected to).
func classifyAuthorization(r *Request, p *Policy, status int, header http.Header, body []byte) Verdict {
	if status >= 500 {
		return Verdict{Err: errcode.New(errcode.ProviderError, "authorization endpoint answered %d", status).With("status", status)}
	}
	if status >= 300 && status < 400 {
		loc, err := url.Parse(header.Get("Location"))
		if err != nil {
			return invalid(status, header, nil, "redirect with an unparsable Location")
		}
		params := loc.Query()
		if frag, err := url.ParseQuery(loc.Fragment); err == nil && params.Get("error") == "" {
			params = frag // implicit flow answers in the fragment (§4.2.2.1)
		}
		if name := params.Get("error"); name != "" {
			return Verdict{Err: explainError(r, p, name, params.Get("error_description"), status)}
		}
		return Verdict{}
	}
	if status >= 400 {
		if r.RedirectURI != "" && p != nil && !p.RedirectAllowed(r.RedirectURI) {
			return Verdict{Err: errcode.New(errcode.RedirectURIMismatch, "authorization endpoint answered %d and redirect_uri %q is not in allowed_redirect_uris", status, r.RedirectURI).
				With("status", status).With("redirect_uri", r.RedirectURI).With("client_id", r.ClientID)}
		}
		if isJSON(header) {
			var obj struct {
				Error string `json:"error"`
				Desc  string `json:"error_description"`
			}
			if json.Unmarshal(body, &obj) == nil && obj.Error != "" {
				return Verdict{Err: explainError(r, p, obj.Error, obj.Desc, status)}
			}
		}
		e := errcode.New(errcode.TokenRequestInvalid, "authorization endpoint refused the request with %d", status).With("status", status).With("client_id", r.ClientID)
		if len(body) > 0 {
			e = e.With("body_excerpt", provider.Excerpt(body))
		}
		return Verdict{Err: e}
	}
	return Verdict{}
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// redactLocation drops the query of a Location (it may carry a code).
func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "(unparsable)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
