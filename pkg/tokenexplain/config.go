package tokenexplain

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// PluginName is the authkit-oauth-explain plugin's name (= its binary's name).
const PluginName = "authkit-oauth-explain"

// CodeHeader is the response header naming the code of an explained answer.
const CodeHeader = "X-Authkit-Code"

// Config is authkit-oauth-explain's configuration, exactly as kong.yaml
// spells it. The plugin goes on the route that proxies to the provider's
// token (and authorization) endpoint. A field's default is its `default`
// tag (kongschema.ApplyDefaults).
type Config struct {
	// AllowedClientIDs limits which client ids may use the route; empty allows any.
	AllowedClientIDs []string `json:"allowed_client_ids" default:""`
	// AllowedRedirectURIs are the registered redirect URIs, compared by exact string match (RFC 9700 §4.1.3); empty allows any.
	AllowedRedirectURIs []string `json:"allowed_redirect_uris" default:""`
	// AllowedScopes limits the scopes a client may request; empty allows any.
	AllowedScopes []string `json:"allowed_scopes" default:""`
	// AllowedGrantTypes limits grant_type values (authorization_code, client_credentials, refresh_token, …); empty allows any.
	AllowedGrantTypes []string `json:"allowed_grant_types" default:""`
	// Enforce refuses requests that break the allow-lists before the provider sees them, with an RFC 6749 §5.2 error body; when false they are only annotated and logged.
	Enforce bool `json:"enforce" default:"false"`
	// RewriteInvalidResponses replaces a provider answer that is not valid OAuth (HTML, not JSON, no access_token) with an RFC 6749 server_error JSON body, so clients get something they can parse; valid OAuth error answers are never rewritten.
	RewriteInvalidResponses bool `json:"rewrite_invalid_responses" default:"false"`
	// LogLevel is the Kong log level of client-side explanations (debug, info, notice, warn, err, crit, alert); provider failures are always logged at err.
	LogLevel *string `json:"log_level" default:"notice" one_of:"debug,info,notice,warn,err,crit,alert"`
}

// Compiled is a compiled config.
type Compiled struct {
	policy  *gateway.Policy
	allow   *Policy
	enforce bool
	rewrite bool
}

// Policy is the gateway's side of the compiled config (gateway.Inspecting).
func (c *Compiled) Policy() *gateway.Policy { return c.policy }

// Compile applies the defaults and Kong's schema (kongschema.Checked),
// then checks the redirect URIs, which Kong cannot.
func (c *Config) Compile() (*Compiled, error) {
	cfg, err := kongschema.Checked(c)
	if err != nil {
		return nil, err
	}
	return cfg.compile()
}

func (c *Config) compile() (*Compiled, error) {
	var errs []error
	for i, u := range c.AllowedRedirectURIs {
		pu, err := url.Parse(u)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("allowed_redirect_uris[%d]: %v", i, err))
		case !pu.IsAbs() || pu.Host == "" && pu.Scheme != "urn":
			// RFC 6749 §3.1.2: the redirection endpoint URI MUST be absolute.
			errs = append(errs, fmt.Errorf("allowed_redirect_uris[%d]: %q is not an absolute URI (RFC 6749 §3.1.2)", i, u))
		case pu.Fragment != "":
			errs = append(errs, fmt.Errorf("allowed_redirect_uris[%d]: %q has a fragment (RFC 6749 §3.1.2 forbids one)", i, u))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Compiled{
		policy:  &gateway.Policy{Plugin: PluginName, LogLevel: *c.LogLevel, Body: errorBody, Challenge: clientChallenge},
		allow:   NewPolicy(c.AllowedClientIDs, c.AllowedRedirectURIs, c.AllowedScopes, c.AllowedGrantTypes),
		enforce: c.Enforce, rewrite: c.RewriteInvalidResponses,
	}, nil
}
