package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

const (
	oidcWellKnown  = "/.well-known/openid-configuration"
	oauthWellKnown = "/.well-known/oauth-authorization-server"
)

// Metadata is an authorization server's metadata document: OpenID Connect
// Discovery 1.0 §3 or RFC 8414 §2. Only the members the suite uses are
// kept; unknown members are ignored.
type Metadata struct {
	Issuer                                    string   `json:"issuer"`
	JWKSURI                                   string   `json:"jwks_uri"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	UserinfoEndpoint                          string   `json:"userinfo_endpoint"`
	ScopesSupported                           []string `json:"scopes_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`
	// Source is the URL the document was fetched from (not a JSON member).
	Source string `json:"-"`
}

// ParseMetadata reads a discovery document: a JSON object with a non-empty
// string "issuer" (RFC 8414 §2 REQUIRED), members of the documented types,
// and endpoint members, when present, absolute http(s) URLs without
// fragment. It does not compare the issuer or require jwks_uri: Discover
// does. Errors are OAUTH_PROVIDER_INVALID_RESPONSE: the document always
// comes from the provider.
func ParseMetadata(data []byte) (*Metadata, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, errcode.New(errcode.ProviderInvalidResp, "discovery document is not a JSON object")
	}
	md := &Metadata{}
	if err := json.Unmarshal(data, md); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, errcode.New(errcode.ProviderInvalidResp, "discovery member %q is a JSON %s, want %s", te.Field, te.Value, te.Type)
		}
		return nil, errcode.Wrap(errcode.ProviderInvalidResp, err)
	}
	if md.Issuer == "" {
		return nil, errcode.New(errcode.ProviderInvalidResp, `discovery document has no "issuer" (RFC 8414 §2)`)
	}
	for _, ep := range []struct{ name, value string }{
		{"jwks_uri", md.JWKSURI},
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"introspection_endpoint", md.IntrospectionEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
		{"userinfo_endpoint", md.UserinfoEndpoint},
	} {
		if ep.value == "" {
			continue
		}
		if err := checkEndpoint(ep.value); err != nil {
			return nil, errcode.New(errcode.ProviderInvalidResp, "discovery %s %q %s", ep.name, truncateForLog(ep.value), err).
				With("member", ep.name)
		}
	}
	return md, nil
}

func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return errors.New("is not an absolute http(s) URL")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("has a fragment")
	}
	return nil
}

// Discover fetches the issuer's metadata: first OIDC Discovery §4
// (<issuer>/.well-known/openid-configuration, appended to the issuer's
// path), then, if that answers 4xx, RFC 8414 §3.1
// (https://host/.well-known/oauth-authorization-server/<path>, inserted
// between host and path). The document's issuer must equal issuer exactly
// (OIDC Discovery §4.3, RFC 8414 §3.3: this is what stops one provider
// impersonating another), and jwks_uri must be an absolute URL — https when
// the issuer is https, so that TLS protects the keys as it protected the
// document.
func Discover(ctx context.Context, c *provider.Client, issuer string) (*Metadata, error) {
	oidcURL, oauthURL, err := WellKnownURLs(issuer)
	if err != nil {
		return nil, err
	}
	md, status, err := fetchMetadata(ctx, c, oidcURL)
	if err != nil && status >= 400 && status < 500 {
		first := err
		md, _, err = fetchMetadata(ctx, c, oauthURL)
		if err != nil {
			e := errcode.From(err)
			return nil, errcode.Wrapf(e.Code, err, "%s: %s; fallback %s: %s", oidcURL, errcode.From(first).Detail, oauthURL, e.Detail).
				With("url", oauthURL).With("oidc_url", oidcURL)
		}
	} else if err != nil {
		return nil, err
	}
	if md.Issuer != issuer {
		return nil, errcode.New(errcode.ProviderInvalidResp, "discovery issuer %q does not match configured %q", truncateForLog(md.Issuer), issuer).
			With("url", md.Source).With("expected_iss", issuer).With("received_iss", truncateForLog(md.Issuer))
	}
	if md.JWKSURI == "" {
		return nil, errcode.New(errcode.ProviderInvalidResp, `discovery document has no "jwks_uri"`).With("url", md.Source)
	}
	if strings.HasPrefix(issuer, "https:") && !strings.HasPrefix(md.JWKSURI, "https:") {
		return nil, errcode.New(errcode.ProviderInvalidResp, "discovery jwks_uri %q is not https while the issuer is", truncateForLog(md.JWKSURI)).
			With("url", md.Source)
	}
	return md, nil
}

// fetchMetadata GETs and parses one document; status is the HTTP status
// when the provider answered (0 otherwise).
func fetchMetadata(ctx context.Context, c *provider.Client, u string) (md *Metadata, status int, err error) {
	defer func(start time.Time) { metrics.ProviderCall(metrics.EndpointDiscovery, start, err) }(time.Now())
	resp, err := c.GetJSON(ctx, u, nil)
	if resp != nil {
		status = resp.Status
	}
	if err != nil {
		return nil, status, err
	}
	md, err = ParseMetadata(resp.Body)
	if err != nil {
		return nil, status, errcode.From(err).With("url", u)
	}
	md.Source = u
	return md, status, nil
}

// WellKnownURLs returns the OIDC Discovery §4 and RFC 8414 §3.1 metadata
// URLs of an issuer. The issuer must be an absolute http(s) URL without
// query or fragment (RFC 8414 §2); anything else is CONFIG_INVALID.
func WellKnownURLs(issuer string) (oidc, oauth string, err error) {
	u, perr := url.Parse(issuer)
	switch {
	case perr != nil:
		return "", "", errcode.New(errcode.ConfigInvalid, "issuer %q is not a URL", issuer)
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return "", "", errcode.New(errcode.ConfigInvalid, "issuer %q is not an absolute http(s) URL", issuer)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#"):
		return "", "", errcode.New(errcode.ConfigInvalid, "issuer %q has a query or fragment (RFC 8414 §2)", issuer)
	case u.User != nil:
		return "", "", errcode.New(errcode.ConfigInvalid, "issuer %q has user info", issuer)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	base := u.Scheme + "://" + u.Host
	return base + path + oidcWellKnown, base + oauthWellKnown + path, nil
}

func truncateForLog(s string) string {
	const max = 200
	if len(s) > max {
		return fmt.Sprintf("%s…", s[:max])
	}
	return s
}
