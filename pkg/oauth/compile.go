package oauth

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/introspect"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// Token modes.
const (
	ModeJWT           = "jwt"
	ModeIntrospection = "introspection"
	ModeAuto          = "auto"
)

func absURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an absolute http(s) URL", field, raw)
	}
	if u.Fragment != "" || u.RawQuery != "" && field == "issuer" {
		return fmt.Errorf("%s: %q must not have a query or fragment (RFC 8414 §2)", field, raw)
	}
	return nil
}

// KongSchema adds what the tags cannot say (kongschema.Schemer): the
// algorithms the verifier knows, the headers a claim may not choose, and
// what each token mode needs. Kong enforces them, and so does Compile.
func (Config) KongSchema(rec *kongschema.Field) {
	rec.Lookup("allowed_algorithms").Elements.OneOf = toAny(accesstoken.Supported())
	rec.Lookup("dpop_allowed_algs").Elements.OneOf = toAny(dpop.Asymmetric(accesstoken.Supported()))
	values := rec.Lookup("claims_to_headers").Values
	for _, h := range slices.Sorted(maps.Keys(reservedHeaders)) {
		values.MatchNone = append(values.MatchNone, kongschema.MatchRule{Pattern: "^" + caseless(h) + "$",
			Err: "that header cannot carry a claim (routing, framing or identity header)"})
	}
	mode := func(m string) *kongschema.Field { return &kongschema.Field{OneOf: []any{m}} }
	rec.EntityChecks = append(rec.EntityChecks,
		kongschema.EntityCheck{ConditionalAtLeastOneOf: &kongschema.ConditionalAtLeastOneOf{
			IfField: "token_mode", IfMatch: mode(ModeJWT), ThenAtLeastOneOf: []string{"issuer", "jwks_uri", "static_jwks"},
			ThenErr: "token_mode jwt: set issuer (discovery), jwks_uri or static_jwks"}},
		kongschema.EntityCheck{ConditionalAtLeastOneOf: &kongschema.ConditionalAtLeastOneOf{
			IfField: "token_mode", IfMatch: mode(ModeIntrospection), ThenAtLeastOneOf: []string{"introspection_endpoint", "issuer"},
			ThenErr: "token_mode introspection: set introspection_endpoint (or issuer, to discover it)"}},
		// In auto mode an issuer means keys by discovery: any one will do.
		kongschema.EntityCheck{ConditionalAtLeastOneOf: &kongschema.ConditionalAtLeastOneOf{
			IfField: "token_mode", IfMatch: mode(ModeAuto), ThenAtLeastOneOf: []string{"issuer", "jwks_uri", "static_jwks", "introspection_endpoint"},
			ThenErr: "issuer, jwks_uri, static_jwks or introspection_endpoint: at least one is required"}},
		redisstore.PolicyCheck,
	)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// caseless is a Lua pattern matching s in any case ("[Hh][Oo][Ss][Tt]").
func caseless(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			fmt.Fprintf(&b, "[%c%c]", c-'a'+'A', c)
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteString("%" + string(c))
		}
	}
	return b.String()
}

// Compile applies the defaults and Kong's schema (kongschema.Checked),
// validates what Kong cannot check (URLs, the issuer rule, the key set;
// all problems joined) and builds the verifier, the key source and the
// introspection client, like golang-jwt's Validator.Validate: small
// steps, each checking one concern.
func (c *Config) Compile() (*Authenticator, error) {
	cfg, err := kongschema.Checked(c)
	if err != nil {
		return nil, err
	}
	v, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return cfg.build(v)
}

// validated is what validation derives from a config (defaults applied)
// and construction uses.
type validated struct {
	hasKeys, hasIntro bool
	jwtPolicy         *accesstoken.Policy
	introPolicy       *accesstoken.Policy
	static            *jwks.Set
	shared            *redisstore.Settings
	pop               *possession // nil when both proof-of-possession modes are off
}

// validate runs the checks Kong's schema cannot express and joins what
// fails.
func (c *Config) validate() (*validated, error) {
	v := &validated{}
	errs := []error{c.verifyURLs()}
	v.hasKeys = c.Issuer != "" || c.JWKSURI != "" || c.StaticJWKS != ""
	// In auto mode introspection is on only when it is configured: an
	// endpoint, or the gateway's client credentials to use at the endpoint
	// discovery finds. In introspection mode the issuer alone suffices to
	// find the endpoint (and introspect.New then asks for the credentials).
	v.hasIntro = c.IntrospectionEndpoint != "" || c.Issuer != "" &&
		(*c.TokenMode == ModeIntrospection || c.IntrospectionClientID != "" || *c.IntrospectionAuthMethod == introspect.AuthNone)
	errs = append(errs, c.verifyIssuers(v))
	var err error
	if v.jwtPolicy, v.introPolicy, err = c.policies(); err != nil {
		errs = append(errs, err)
	}
	if v.shared, err = redisstore.Compile(*c.Policy, c.Redis, c.FaultTolerant); err != nil {
		errs = append(errs, err)
	}
	if c.StaticJWKS != "" {
		if v.static, err = jwks.Parse([]byte(c.StaticJWKS), true); err != nil {
			errs = append(errs, fmt.Errorf("static_jwks: %w", err))
		}
	}
	var popErrs []error
	v.pop, popErrs = c.compilePossession(seconds(*c.LeewaySeconds), v.shared)
	errs = append(errs, popErrs...)
	if err := errors.Join(errs...); err != nil {
		v.pop.close()
		return nil, err
	}
	return v, nil
}

// verifyURLs: absolute http(s) URLs with a host (Kong's schema checks the
// scheme only).
func (c *Config) verifyURLs() error {
	var errs []error
	for _, u := range []struct{ field, value string }{
		{"issuer", c.Issuer}, {"jwks_uri", c.JWKSURI}, {"introspection_endpoint", c.IntrospectionEndpoint},
	} {
		if u.value != "" {
			errs = append(errs, absURL(u.field, u.value))
		}
	}
	return errors.Join(errs...)
}

// verifyIssuers: RFC 9068 §4 / RFC 8725 §3.8: a JWT's issuer must be
// validated, so locally verified tokens need an issuer to compare with.
func (c *Config) verifyIssuers(v *validated) error {
	if len(c.issuers()) == 0 && *c.TokenMode != ModeIntrospection && v.hasKeys {
		return errors.New("allowed_issuers: required when issuer is not set (RFC 9068 §4 requires validating iss)")
	}
	return nil
}

// issuers is allowed_issuers, or [issuer] when it is empty.
func (c *Config) issuers() []string {
	if len(c.AllowedIssuers) == 0 && c.Issuer != "" {
		return []string{c.Issuer}
	}
	return c.AllowedIssuers
}

// policies are the claim checks for JWTs and for introspection answers,
// which need not carry exp (RFC 7662 §2.2: OPTIONAL).
func (c *Config) policies() (jwtPolicy, introPolicy *accesstoken.Policy, err error) {
	opts := accesstoken.PolicyOptions{
		AllowedIssuers: c.issuers(), Audiences: c.Audiences,
		Leeway: seconds(*c.LeewaySeconds), MaxTokenAge: seconds(c.MaxTokenAgeSeconds),
		RequireExp: true, RequiredScopes: c.RequiredScopes, ScopeMatch: *c.ScopeMatch, ScopeClaims: c.ScopeClaims,
		AllowedClientIDs: c.AllowedClientIDs,
	}
	if jwtPolicy, err = accesstoken.NewPolicy(opts); err != nil {
		return nil, nil, err
	}
	opts.RequireExp = false
	if introPolicy, err = accesstoken.NewPolicy(opts); err != nil {
		return nil, nil, fmt.Errorf("introspection policy: %w", err)
	}
	return jwtPolicy, introPolicy, nil
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// build constructs the authenticator from a validated config.
func (c *Config) build(v *validated) (*Authenticator, error) {
	timeout := time.Duration(*c.HTTPTimeoutMS) * time.Millisecond
	httpc := provider.New(timeout)
	a := &Authenticator{
		http:        httpc,
		mode:        *c.TokenMode,
		queryParam:  c.TokenQueryParam,
		cookie:      c.TokenCookie,
		hide:        c.HideCredentials,
		claimsToHdr: c.ClaimsToHeaders,
		consumer:    c.ConsumerClaim,
		consumerBy:  *c.ConsumerBy,
		optional:    c.ConsumerOptional,
		timeout:     timeout,
		introPolicy: v.introPolicy,
		pop:         v.pop,
		policy: &gateway.Policy{
			Plugin:         PluginName,
			Anonymous:      c.Anonymous,
			RunOnPreflight: *c.RunOnPreflight,
			LogLevel:       *c.LogLevel,
			Challenge:      gateway.BearerChallenge(c.Realm),
			OwnedHeaders:   append(ownedHeaders(c.ClaimsToHeaders), v.pop.ownedHeaders()...),
			Challenges:     v.pop.challenges(c.Realm),
			Prefetch:       v.pop.facts(),
		},
	}
	if c.TokenQueryParam != "" {
		a.policy.Prefetch |= gateway.FactRawQuery
	}
	// jwks_min_refresh_seconds 0 is RemoteOptions' "off".
	remote := jwks.RemoteOptions{Client: httpc, MinRefresh: seconds(*c.JWKSMinRefreshSeconds), TTL: seconds(*c.JWKSCacheTTLSeconds)}
	var disc *discovered
	if c.Issuer != "" {
		disc = discover(c.Issuer, httpc, remote.MinRefresh, remote.TTL)
	}
	switch {
	case v.static != nil:
		a.keys = v.static
	case c.JWKSURI != "":
		a.keys = jwks.Remote(c.JWKSURI, remote)
	case disc != nil:
		a.keys = &discoveredKeys{d: disc, opts: remote}
	}
	if v.shared.Redis != nil {
		a.policy.Warnings = append(a.policy.Warnings, v.shared.Warnings()...)
		if (*c.TokenMode == ModeJWT || !v.hasIntro) && !v.pop.acceptDPoP() {
			a.policy.Warnings = append(a.policy.Warnings, "policy: redis shares introspection answers and spent DPoP proofs, and this config introspects nothing and takes no DPoP proofs: Redis is not used")
		}
	}
	if a.keys != nil && *c.TokenMode != ModeIntrospection {
		var err error
		if a.verifier, err = accesstoken.NewVerifier(accesstoken.VerifierOptions{
			AllowedAlgorithms: c.AllowedAlgorithms, RequireTypATJWT: c.RequireTypATJWT, Keys: a.keys, Policy: v.jwtPolicy,
		}); err != nil {
			a.Close()
			return nil, err
		}
	}
	if *c.TokenMode != ModeJWT && v.hasIntro {
		if err := c.buildIntrospection(a, httpc, disc, v.shared); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// buildIntrospection sets up the introspection client: now for a
// configured endpoint, on first use for one discovery finds.
func (c *Config) buildIntrospection(a *Authenticator, httpc *provider.Client, disc *discovered, shared *redisstore.Settings) error {
	opts := introspect.Options{
		Endpoint: c.IntrospectionEndpoint, ClientID: c.IntrospectionClientID, ClientSecret: c.IntrospectionClientSecret,
		AuthMethod: *c.IntrospectionAuthMethod, TokenTypeHint: *c.TokenTypeHint, HTTP: httpc,
		CacheTTL: seconds(*c.IntrospectionCacheTTLSeconds), NegativeTTL: seconds(*c.IntrospectionNegativeTTLSeconds),
	}
	var err error
	if opts.Shared, err = redisstore.New(shared); err != nil {
		return err
	}
	a.stores = append(a.stores, opts.Shared)
	if opts.Endpoint != "" {
		if a.intro, err = introspect.New(opts); err == nil {
			a.releases = append(a.releases, a.intro.Close)
		}
		return err
	}
	// Endpoint from discovery, resolved on first use; the options are
	// checked now.
	if _, err := introspect.New(withEndpoint(opts, "https://discovered.invalid/")); err != nil {
		return err
	}
	a.introLazy = &lazyIntrospect{d: disc, opts: opts}
	a.releases = append(a.releases, a.introLazy.close)
	return nil
}

// reservedHeaders may not be targets of claims_to_headers.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true, "upgrade": true, "te": true,
	"authorization": true, "proxy-authorization": true, "cookie": true,
	"x-consumer-id": true, "x-consumer-username": true, "x-consumer-custom-id": true,
	"x-credential-identifier": true, "x-anonymous-consumer": true,
	strings.ToLower(HeaderScope): true, strings.ToLower(HeaderSubject): true,
}

// ownedHeaders lists the upstream headers a successful validation sets.
func ownedHeaders(claimsToHeaders map[string]string) []string {
	out := []string{HeaderScope, HeaderSubject}
	for _, h := range claimsToHeaders {
		out = append(out, h)
	}
	sort.Strings(out[2:])
	return out
}

func withEndpoint(o introspect.Options, ep string) introspect.Options { o.Endpoint = ep; return o }
