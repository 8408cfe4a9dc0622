package accesstoken

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Scope match modes for PolicyOptions.ScopeMatch.
const (
	ScopeMatchAll = "all"
	ScopeMatchAny = "any"
)

// PolicyOptions are the claim rules of one plugin instance. An empty list
// switches its check off; the plugin's config validation decides which
// lists are mandatory (RFC 9068 §4 wants iss and aud checked).
type PolicyOptions struct {
	// AllowedIssuers: "iss" must equal one of them exactly (RFC 9068 §4,
	// RFC 8725 §3.8). Default: none (not checked).
	AllowedIssuers []string
	// Audiences: "aud" (a string or an array) must contain one of them
	// (RFC 7519 §4.1.3, RFC 8725 §3.9). Default: none (not checked).
	Audiences []string
	// Leeway is the clock skew tolerated on exp, nbf, iat and the age
	// limit. Default: 0.
	Leeway time.Duration
	// MaxTokenAge refuses tokens whose "iat" is older than this; 0 is off.
	// Default: 0.
	MaxTokenAge time.Duration
	// RequireExp refuses a token without "exp". A Verifier requires exp
	// whatever this says (RFC 9068 §2.2); it matters for introspection
	// answers, where exp is optional (RFC 7662 §2.2). Default: false.
	RequireExp bool
	// RequiredScopes the token must carry (case-sensitive, RFC 6749 §3.3).
	// Default: none.
	RequiredScopes []string
	// ScopeMatch is "all" (every required scope) or "any" (at least one).
	// Default: "all".
	ScopeMatch string
	// ScopeClaims are the claims holding the token's scopes, first present
	// wins; each is a space-delimited string or an array of strings.
	// Default: "scope", then "scp".
	ScopeClaims []string
	// AllowedClientIDs: "client_id", or "azp" when client_id is absent,
	// must be one of them (RFC 9068 §2.2). Default: none (not checked).
	AllowedClientIDs []string
}

// Policy is a compiled PolicyOptions: immutable, safe for concurrent use.
type Policy struct {
	opts          PolicyOptions
	issuers       map[string]struct{}
	audiences     map[string]struct{}
	clients       map[string]struct{}
	matchAny      bool
	requiredScope string // space-joined, for the challenge's scope=
}

// NewPolicy validates and compiles opts. Every list item is checked, with
// its index in the message.
func NewPolicy(opts PolicyOptions) (*Policy, error) {
	p := &Policy{opts: opts}
	p.opts.AllowedIssuers = slices.Clone(opts.AllowedIssuers)
	p.opts.Audiences = slices.Clone(opts.Audiences)
	p.opts.RequiredScopes = slices.Clone(opts.RequiredScopes)
	p.opts.AllowedClientIDs = slices.Clone(opts.AllowedClientIDs)
	p.opts.ScopeClaims = slices.Clone(opts.ScopeClaims)
	if opts.Leeway < 0 {
		return nil, fmt.Errorf("leeway: %s is negative", opts.Leeway)
	}
	if opts.MaxTokenAge < 0 {
		return nil, fmt.Errorf("max_token_age: %s is negative", opts.MaxTokenAge)
	}
	switch opts.ScopeMatch {
	case "", ScopeMatchAll:
		p.opts.ScopeMatch = ScopeMatchAll
	case ScopeMatchAny:
		p.matchAny = true
	default:
		return nil, fmt.Errorf("scope_match: %q is neither %q nor %q", opts.ScopeMatch, ScopeMatchAll, ScopeMatchAny)
	}
	if len(p.opts.ScopeClaims) == 0 {
		p.opts.ScopeClaims = slices.Clone(defaultScopeClaims)
	}
	var err error
	if p.issuers, err = set("allowed_issuers", opts.AllowedIssuers); err != nil {
		return nil, err
	}
	if p.audiences, err = set("audiences", opts.Audiences); err != nil {
		return nil, err
	}
	if p.clients, err = set("allowed_client_ids", opts.AllowedClientIDs); err != nil {
		return nil, err
	}
	if _, err = set("scope_claims", p.opts.ScopeClaims); err != nil {
		return nil, err
	}
	for i, s := range opts.RequiredScopes {
		// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r == '"' || r == '\\' || r > 0x7e }) {
			return nil, fmt.Errorf("required_scopes[%d]: %q is not a valid scope token (RFC 6749 §3.3)", i, s)
		}
	}
	p.requiredScope = strings.Join(opts.RequiredScopes, " ")
	return p, nil
}

func set(field string, items []string) (map[string]struct{}, error) {
	if len(items) == 0 {
		return nil, nil
	}
	m := make(map[string]struct{}, len(items))
	for i, s := range items {
		if s == "" {
			return nil, fmt.Errorf("%s[%d]: empty string", field, i)
		}
		m[s] = struct{}{}
	}
	return m, nil
}

// Options returns a copy of the options the policy was compiled from
// (with defaults applied).
func (p *Policy) Options() PolicyOptions {
	o := p.opts
	o.AllowedIssuers = slices.Clone(o.AllowedIssuers)
	o.Audiences = slices.Clone(o.Audiences)
	o.RequiredScopes = slices.Clone(o.RequiredScopes)
	o.AllowedClientIDs = slices.Clone(o.AllowedClientIDs)
	o.ScopeClaims = slices.Clone(o.ScopeClaims)
	return o
}

// Check runs the claim rules against c at now, in this order: exp; nbf and
// iat in the future; max age; iss; aud; client; scopes. Time comes first
// because an expired token is expired whoever issued it, and the client's
// fix (get a new token) is the same. The first failure is returned, with
// the expected and received values as log fields.
//
// A missing exp when required is OAUTH_TOKEN_MALFORMED: RFC 9068 §2.2
// makes exp REQUIRED, so such a token is not a conforming access token.
func (p *Policy) Check(c *Claims, now time.Time) error {
	return p.check(c, now, p.opts.RequireExp)
}

func (p *Policy) check(c *Claims, now time.Time, requireExp bool) error {
	if c == nil {
		return errcode.New(errcode.TokenMalformed, "no claims")
	}
	if err := p.checkTime(c, now, requireExp); err != nil {
		return err
	}
	if p.issuers != nil {
		if _, ok := p.issuers[c.Issuer]; !ok {
			return errcode.New(errcode.IssuerMismatch, "iss %q is not an allowed issuer", c.Issuer).
				With("expected_iss", p.opts.AllowedIssuers).With("iss", c.Issuer)
		}
	}
	if p.audiences != nil && !p.audienceOK(c.Audience) {
		detail := "aud claim missing"
		if len(c.Audience) > 0 {
			detail = fmt.Sprintf("aud %q contains none of the configured audiences", c.Audience)
		}
		return errcode.New(errcode.AudienceMismatch, "%s", detail).
			With("expected_aud", p.opts.Audiences).With("aud", c.Audience)
	}
	if p.clients != nil {
		claim, id := "client_id", c.ClientID
		if id == "" { // azp only stands in for an absent client_id
			claim, id = "azp", c.AZP
		}
		if _, ok := p.clients[id]; !ok {
			return errcode.New(errcode.ClientNotAllowed, "%s %q is not an allowed client", claim, id).
				With("expected_client_id", p.opts.AllowedClientIDs).With("client_id", id).With("client_claim", claim)
		}
	}
	if len(p.opts.RequiredScopes) > 0 {
		return p.checkScopes(c)
	}
	return nil
}

// checkTime applies RFC 7519 §4.1.4 (now must be before exp), §4.1.5 (not
// before nbf) and §4.1.6 (iat), each with the leeway. A cache hit re-runs
// exactly this.
func (p *Policy) checkTime(c *Claims, now time.Time, requireExp bool) error {
	lw := p.opts.Leeway
	switch {
	case c.Expiry == nil && requireExp:
		return errcode.New(errcode.TokenMalformed, "exp claim missing").With("claim", "exp")
	case c.Expiry != nil && !now.Before(c.Expiry.Add(lw)):
		return errcode.New(errcode.TokenExpired, "token expired at %s", stamp(*c.Expiry)).
			With("exp", stamp(*c.Expiry)).With("now", stamp(now)).With("leeway_seconds", lw.Seconds())
	}
	if c.NotBefore != nil && now.Add(lw).Before(*c.NotBefore) {
		return errcode.New(errcode.TokenNotYetValid, "token not valid before %s", stamp(*c.NotBefore)).
			With("nbf", stamp(*c.NotBefore)).With("now", stamp(now)).With("leeway_seconds", lw.Seconds())
	}
	if c.IssuedAt != nil && now.Add(lw).Before(*c.IssuedAt) {
		return errcode.New(errcode.TokenNotYetValid, "token issued in the future at %s", stamp(*c.IssuedAt)).
			With("iat", stamp(*c.IssuedAt)).With("now", stamp(now)).With("leeway_seconds", lw.Seconds())
	}
	if max := p.opts.MaxTokenAge; max > 0 {
		if c.IssuedAt == nil {
			// RFC 9068 §2.2 makes iat REQUIRED; without it the age is unknown.
			return errcode.New(errcode.TokenMalformed, "iat claim missing, needed by max_token_age").With("claim", "iat")
		}
		if age := now.Sub(*c.IssuedAt); age > max+lw {
			return errcode.New(errcode.TokenTooOld, "token is %s old, the limit is %s", age.Round(time.Second), max).
				With("iat", stamp(*c.IssuedAt)).With("now", stamp(now)).
				With("age_seconds", int64(age.Seconds())).With("max_age_seconds", int64(max.Seconds()))
		}
	}
	return nil
}

func (p *Policy) audienceOK(aud []string) bool {
	for _, a := range aud {
		if _, ok := p.audiences[a]; ok {
			return true
		}
	}
	return false
}

func (p *Policy) checkScopes(c *Claims) error {
	have := c.Scopes
	if !slices.Equal(p.opts.ScopeClaims, defaultScopeClaims) {
		var err error
		if have, _, err = scopesOf(c.Raw, p.opts.ScopeClaims); err != nil {
			return err
		}
	}
	var missing []string
	for _, want := range p.opts.RequiredScopes {
		if slices.Contains(have, want) {
			if p.matchAny {
				return nil
			}
		} else {
			missing = append(missing, want)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// required_scope feeds the challenge's scope= (RFC 6750 §3.1).
	detail := fmt.Sprintf("token lacks scopes %q (all of %q required)", strings.Join(missing, " "), p.requiredScope)
	if p.matchAny {
		detail = fmt.Sprintf("token has none of the scopes %q (any one required)", p.requiredScope)
	}
	return errcode.New(errcode.InsufficientScope, "%s", detail).
		With("required_scope", p.requiredScope).With("token_scopes", strings.Join(have, " ")).
		With("missing_scopes", strings.Join(missing, " ")).With("scope_match", p.opts.ScopeMatch)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
