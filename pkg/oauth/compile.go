package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/introspect"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// Token modes.
const (
	ModeJWT           = "jwt"
	ModeIntrospection = "introspection"
	ModeAuto          = "auto"
)

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

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

// Compile applies defaults, validates every field (naming it) and builds
// the verifier, the key source and the introspection client.
func (c *Config) Compile() (*Authenticator, error) {
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	mode := c.TokenMode
	if mode == "" {
		mode = ModeAuto
	}
	if mode != ModeJWT && mode != ModeIntrospection && mode != ModeAuto {
		fail(fmt.Errorf("token_mode: %q is not jwt, introspection or auto", c.TokenMode))
	}
	if err := gateway.CheckLogLevel(c.LogLevel); err != nil {
		fail(err)
	}
	if c.Issuer != "" {
		if err := absURL("issuer", c.Issuer); err != nil {
			fail(err)
		}
	}
	if c.JWKSURI != "" {
		if err := absURL("jwks_uri", c.JWKSURI); err != nil {
			fail(err)
		}
	}
	if c.IntrospectionEndpoint != "" {
		if err := absURL("introspection_endpoint", c.IntrospectionEndpoint); err != nil {
			fail(err)
		}
	}
	timeoutMS := intOr(c.HTTPTimeoutMS, 3000)
	minRefresh := intOr(c.JWKSMinRefreshSeconds, 10)
	jwksTTL := intOr(c.JWKSCacheTTLSeconds, 3600)
	leeway := intOr(c.LeewaySeconds, 30)
	introTTL := intOr(c.IntrospectionCacheTTLSeconds, 300)
	negTTL := intOr(c.IntrospectionNegativeTTLSeconds, 10)
	for _, n := range []struct {
		name   string
		v, min int
	}{{"http_timeout_ms", timeoutMS, 1}, {"jwks_min_refresh_seconds", minRefresh, 0}, {"jwks_cache_ttl_seconds", jwksTTL, 1},
		{"leeway_seconds", leeway, 0}, {"max_token_age_seconds", c.MaxTokenAgeSeconds, 0},
		{"introspection_cache_ttl_seconds", introTTL, 0}, {"introspection_negative_ttl_seconds", negTTL, 0}} {
		if n.v < n.min {
			fail(fmt.Errorf("%s: must be ≥ %d, got %d", n.name, n.min, n.v))
		}
	}
	scopeMatch := c.ScopeMatch
	if scopeMatch == "" {
		scopeMatch = accesstoken.ScopeMatchAll
	}
	consumerBy := c.ConsumerBy
	if consumerBy == "" {
		consumerBy = "username"
	}
	if consumerBy != "username" && consumerBy != "custom_id" {
		fail(fmt.Errorf("consumer_by: %q is not username or custom_id", c.ConsumerBy))
	}
	for claim, header := range c.ClaimsToHeaders {
		switch {
		case claim == "" || header == "" || strings.ContainsAny(header, " :\r\n"):
			fail(fmt.Errorf("claims_to_headers: %q → %q is not a claim name and a header name", claim, header))
		case reservedHeaders[strings.ToLower(header)]:
			// Kong's set_headers treats Host as the upstream host, framing
			// headers change how the body is read, and identity headers
			// belong to the authentication itself: token contents must
			// not choose them.
			fail(fmt.Errorf("claims_to_headers: %q → %q: that header cannot carry a claim (routing, framing or identity header)", claim, header))
		}
	}

	hasKeys := c.Issuer != "" || c.JWKSURI != "" || c.StaticJWKS != ""
	// In auto mode introspection is on only when it is configured: an
	// endpoint, or the gateway's client credentials to use at the endpoint
	// discovery finds. In introspection mode the issuer alone suffices to
	// find the endpoint (and New then asks for the credentials).
	hasIntro := c.IntrospectionEndpoint != "" || c.Issuer != "" && (mode == ModeIntrospection || c.IntrospectionClientID != "" || c.IntrospectionAuthMethod == introspect.AuthNone)
	switch {
	case mode == ModeJWT && !hasKeys:
		fail(errors.New("token_mode jwt: set issuer (discovery), jwks_uri or static_jwks"))
	case mode == ModeIntrospection && !hasIntro:
		fail(errors.New("token_mode introspection: set introspection_endpoint (or issuer, to discover it)"))
	case mode == ModeAuto && !hasKeys && !hasIntro:
		fail(errors.New("issuer, jwks_uri, static_jwks or introspection_endpoint: at least one is required"))
	}
	issuers := c.AllowedIssuers
	if len(issuers) == 0 && c.Issuer != "" {
		issuers = []string{c.Issuer}
	}
	if len(issuers) == 0 && mode != ModeIntrospection && hasKeys {
		// RFC 9068 §4 / RFC 8725 §3.8: the issuer must be validated.
		fail(errors.New("allowed_issuers: required when issuer is not set (RFC 9068 §4 requires validating iss)"))
	}

	policyOpts := accesstoken.PolicyOptions{
		AllowedIssuers: issuers, Audiences: c.Audiences,
		Leeway: time.Duration(leeway) * time.Second, MaxTokenAge: time.Duration(c.MaxTokenAgeSeconds) * time.Second,
		RequireExp: true, RequiredScopes: c.RequiredScopes, ScopeMatch: scopeMatch, ScopeClaims: c.ScopeClaims,
		AllowedClientIDs: c.AllowedClientIDs,
	}
	jwtPolicy, err := accesstoken.NewPolicy(policyOpts)
	if err != nil {
		fail(err)
	}
	// Introspection answers need not carry exp (RFC 7662 §2.2: OPTIONAL).
	policyOpts.RequireExp = false
	introPolicy, _ := accesstoken.NewPolicy(policyOpts)

	pop, popErrs := c.compilePossession(time.Duration(leeway) * time.Second)
	errs = append(errs, popErrs...)

	var static *jwks.Set
	if c.StaticJWKS != "" {
		if static, err = jwks.Parse([]byte(c.StaticJWKS), true); err != nil {
			fail(fmt.Errorf("static_jwks: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	httpc := provider.New(time.Duration(timeoutMS) * time.Millisecond)
	a := &Authenticator{
		mode:        mode,
		queryParam:  c.TokenQueryParam,
		cookie:      c.TokenCookie,
		hide:        c.HideCredentials,
		claimsToHdr: c.ClaimsToHeaders,
		consumer:    c.ConsumerClaim,
		consumerBy:  consumerBy,
		optional:    c.ConsumerOptional,
		timeout:     time.Duration(timeoutMS) * time.Millisecond,
		introPolicy: introPolicy,
		pop:         pop,
		policy: &gateway.Policy{
			Plugin:         PluginName,
			Anonymous:      c.Anonymous,
			RunOnPreflight: c.RunOnPreflight == nil || *c.RunOnPreflight,
			LogLevel:       c.LogLevel,
			Challenge:      gateway.BearerChallenge(c.Realm),
			OwnedHeaders:   append(ownedHeaders(c.ClaimsToHeaders), pop.ownedHeaders()...),
			Challenges:     pop.challenges(c.Realm),
			Prefetch:       pop.facts(),
		},
	}
	if c.TokenQueryParam != "" {
		a.policy.Prefetch |= gateway.FactRawQuery
	}
	remote := jwks.RemoteOptions{Client: httpc, MinRefresh: time.Duration(minRefresh) * time.Second, TTL: time.Duration(jwksTTL) * time.Second}
	if minRefresh == 0 {
		remote.MinRefresh = time.Nanosecond
	}
	var disc *discovered
	if c.Issuer != "" {
		disc = discover(c.Issuer, httpc, remote.MinRefresh, remote.TTL)
	}
	switch {
	case static != nil:
		a.keys = static
	case c.JWKSURI != "":
		a.keys = jwks.Remote(c.JWKSURI, remote)
	case disc != nil:
		a.keys = &discoveredKeys{d: disc, opts: remote}
	}
	if a.keys != nil && mode != ModeIntrospection {
		if a.verifier, err = accesstoken.NewVerifier(accesstoken.VerifierOptions{
			AllowedAlgorithms: c.AllowedAlgorithms, RequireTypATJWT: c.RequireTypATJWT, Keys: a.keys, Policy: jwtPolicy,
		}); err != nil {
			return nil, err
		}
	}
	if mode != ModeJWT && hasIntro {
		hint := "access_token"
		if c.TokenTypeHint != nil {
			hint = *c.TokenTypeHint
		}
		opts := introspect.Options{
			Endpoint: c.IntrospectionEndpoint, ClientID: c.IntrospectionClientID, ClientSecret: c.IntrospectionClientSecret,
			AuthMethod: c.IntrospectionAuthMethod, TokenTypeHint: hint, HTTP: httpc,
			CacheTTL: time.Duration(introTTL) * time.Second, NegativeTTL: time.Duration(negTTL) * time.Second,
		}
		if opts.Endpoint != "" {
			if a.intro, err = introspect.New(opts); err != nil {
				return nil, err
			}
		} else {
			// Endpoint from discovery, resolved on first use.
			if _, err := introspect.New(withEndpoint(opts, "https://discovered.invalid/")); err != nil {
				return nil, err
			}
			a.introLazy = &lazyIntrospect{d: disc, opts: opts}
		}
	}
	return a, nil
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
