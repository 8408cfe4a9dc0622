package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
	"github.com/kong-authkit/kong-authkit/pkg/bearer"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/introspect"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// Upstream headers carrying the token's scopes and subject (the names Kong's
// oauth2 plugin uses). Always set or removed, so clients cannot spoof them.
const (
	HeaderScope   = "X-Authenticated-Scope"
	HeaderSubject = "X-Authenticated-Userid"
)

// Authenticator is a compiled authkit-oauth config.
type Authenticator struct {
	policy      *gateway.Policy
	mode        string
	queryParam  string
	cookie      string
	hide        bool
	claimsToHdr map[string]string
	consumer    string
	consumerBy  string
	optional    bool
	timeout     time.Duration

	keys        jwks.Source
	verifier    *accesstoken.Verifier
	intro       *introspect.Client
	introLazy   *lazyIntrospect
	introPolicy *accesstoken.Policy
	pop         *possession // nil when proof of possession is off

	// What Close releases (release.go): the Redis stores the config
	// opened, and the provider client's idle connections.
	http   *provider.Client
	stores []*redisstore.Store
	// Introspection clients to close (their TTLs leave the storage
	// lifetime: pkg/introspect/lifetime.go).
	releases []func()
}

// Authenticate extracts the bearer token (RFC 6750 §2) and validates it.
func (a *Authenticator) Authenticate(r *gateway.Request) (*gateway.Identity, error) {
	in := bearer.Input{Authorization: r.HeaderValues("Authorization"), AcceptDPoP: a.pop.acceptDPoP()}
	var rawQuery string
	if a.queryParam != "" {
		q, err := r.RawQuery()
		if err != nil {
			return nil, errcode.Wrap(errcode.InternalError, err)
		}
		rawQuery = q
		// The same parser finds the token and hides it (gateway/strip.go):
		// a bad escape elsewhere in the query must not hide a second token.
		in.Query = gateway.ParamValues(q, a.queryParam)
	}
	if a.cookie != "" {
		in.Cookie = gateway.CookieValues(r.HeaderValues("Cookie"), a.cookie)
	}
	cred, err := bearer.ExtractCredential(in)
	if err != nil {
		return nil, err
	}
	token, source := cred.Token, cred.Source
	// The fingerprint is for logs: computed only when one is written.
	fp := func() string { return secret.Fingerprint(token) }
	// A token sent with the DPoP scheme is refused with a DPoP challenge.
	tag := func(e *errcode.Error) *errcode.Error {
		if cred.Scheme == bearer.SchemeDPoP {
			return e.With(gateway.FieldAuthScheme, bearer.SchemeDPoP)
		}
		return e
	}
	// RFC 9449 §4.3: the proof is checked before the token (no
	// introspection for a request whose proof is bad), its binding to the
	// token after.
	ctx, cancel := context.WithTimeout(redisstore.WithReporter(context.Background(), r), a.timeout+time.Second)
	defer cancel()
	proof, err := a.pop.dpopProof(ctx, r, cred)
	if err != nil {
		return nil, tag(errcode.From(err).With("credential", fp()))
	}
	claims, how, err := a.validate(ctx, token)
	if err != nil {
		return nil, tag(errcode.From(err).With("credential", fp()).With("validated_by", how))
	}
	var respHeaders map[string]string
	if a.pop != nil {
		if respHeaders, err = a.pop.bind(ctx, r, cred.Scheme, proof, claims, how); err != nil {
			return nil, tag(errcode.From(err).With("credential", fp()).With("validated_by", how))
		}
	}

	id := &gateway.Identity{Headers: a.upstreamHeaders(claims), ResponseHeaders: respHeaders}
	for _, h := range a.pop.ownedHeaders() {
		id.Headers[h] = "" // the certificate header is nginx's message to this plugin
	}
	if how == "jwt" {
		id.Warning = a.staleWarning()
	}
	// X-Credential-Identifier: jti, else sub, else the token's fingerprint.
	// A claim that cannot go into a header unchanged (a CR, LF or other
	// control character, gateway.HeaderValue) is passed over, never
	// trimmed into someone else's identifier.
	id.CredentialID = gateway.HeaderValue(claims.JTI)
	if id.CredentialID == "" {
		id.CredentialID = gateway.HeaderValue(claims.Subject)
	}
	if id.CredentialID == "" {
		id.CredentialID = "token:" + fp()
	}
	if a.consumer != "" {
		v, ok := claimString(claims.Get(a.consumer))
		// A consumer claim that is not a clean header value maps no
		// consumer: it would reach X-Consumer-Custom-ID, and trimming it
		// could name another consumer.
		ok = ok && gateway.HeaderValue(v) == v
		switch {
		case ok && a.consumerBy == "custom_id":
			id.Virtual = &gateway.Consumer{CustomID: v}
		case ok:
			id.Consumer, id.ConsumerOptional = v, a.optional
		case !a.optional:
			return nil, errcode.New(errcode.ClaimMismatch, "token has no usable string claim %q to map a consumer from (absent, empty, or with control characters)", a.consumer).
				With("credential", fp()).With("consumer_claim", a.consumer)
		}
	}
	if a.hide {
		switch source {
		case bearer.SourceHeader:
			id.Headers["Authorization"] = ""
			if cred.Scheme == bearer.SchemeDPoP {
				id.Headers[HeaderDPoP] = "" // the proof goes with the token
			}
		case bearer.SourceQuery:
			q := gateway.StripQueryParam(rawQuery, a.queryParam)
			id.RawQuery = &q
		case bearer.SourceCookie:
			id.Headers["Cookie"] = gateway.StripCookie(r.HeaderValues("Cookie"), a.cookie)
		}
	}
	return id, nil
}

// validate picks JWT or introspection by token_mode.
func (a *Authenticator) validate(ctx context.Context, token string) (*accesstoken.Claims, string, error) {
	useJWT := false
	switch a.mode {
	case ModeJWT:
		useJWT = true
	case ModeAuto:
		useJWT = a.verifier != nil && (looksLikeJWT(token) || a.intro == nil && a.introLazy == nil)
	}
	if useJWT {
		if a.verifier == nil {
			return nil, "jwt", errcode.New(errcode.ConfigInvalid, "no key source for JWT validation")
		}
		c, err := a.verifier.Verify(ctx, token)
		return c, "jwt", err
	}
	c, err := a.introspect(ctx, token)
	return c, "introspection", err
}

func (a *Authenticator) introspect(ctx context.Context, token string) (*accesstoken.Claims, error) {
	client := a.intro
	if client == nil {
		if a.introLazy == nil {
			return nil, errcode.New(errcode.TokenMalformed, "not a JWT, and no introspection endpoint is configured")
		}
		var err error
		if client, err = a.introLazy.client(ctx); err != nil {
			return nil, err
		}
	}
	ans, cached, err := client.Introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	if !ans.Active {
		return nil, errcode.New(errcode.TokenInactive, "introspection answered active=false").With("cached", strconv.FormatBool(cached))
	}
	claims, err := accesstoken.ClaimsFromMap(ans.Claims)
	if err != nil {
		// An active answer with claims of the wrong shape is the
		// provider's fault, not the token's.
		return nil, errcode.Wrap(errcode.ProviderInvalidResp, fmt.Errorf("introspection answer: %w", err))
	}
	// Only access tokens authenticate: fosite (Hydra) answers active for a
	// refresh token too, whatever token_type_hint says.
	var also []string
	if a.pop.acceptDPoP() {
		also = []string{"DPoP"} // RFC 9449 §6.2: token_type of a DPoP-bound token
	}
	if err := accesstoken.CheckTokenUseAlso(ans.Claims, true, also...); err != nil {
		return nil, errcode.From(err).With("cached", strconv.FormatBool(cached))
	}
	if err := a.introPolicy.Check(claims, time.Now()); err != nil {
		return nil, err
	}
	return claims, nil
}

// looksLikeJWT: three base64url segments whose first decodes to a JSON
// object with an "alg" (RFC 7519 §7.2 steps 1–3, cheaply).
func looksLikeJWT(token string) bool {
	h, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	var hdr struct {
		Alg *string `json:"alg"`
	}
	return json.Unmarshal(raw, &hdr) == nil && hdr.Alg != nil
}

// upstreamHeaders renders claims_to_headers plus the scope and subject
// headers. A claim that is absent removes its header (spoofing), and so
// does one that cannot be sent unchanged (gateway.HeaderValue): dropping a
// CR from "alice\r" would forward someone else's name.
func (a *Authenticator) upstreamHeaders(c *accesstoken.Claims) map[string]string {
	h := map[string]string{HeaderScope: gateway.HeaderValue(strings.Join(c.Scopes, " ")), HeaderSubject: gateway.HeaderValue(c.Subject)}
	names := make([]string, 0, len(a.claimsToHdr))
	for claim := range a.claimsToHdr {
		names = append(names, claim)
	}
	sort.Strings(names)
	for _, claim := range names {
		v, _ := claimString(c.Get(claim))
		h[a.claimsToHdr[claim]] = gateway.HeaderValue(v)
	}
	return h
}

// claimString renders a scalar claim as text and an array of scalars
// joined by spaces; objects are not rendered.
func claimString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int, int64:
		return fmt.Sprint(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case []any, map[string]any:
				continue // only arrays of scalars are rendered
			}
			if s, ok := claimString(e); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " "), len(parts) > 0
	case []string:
		return strings.Join(x, " "), len(x) > 0
	}
	return "", false
}

// Policy is the gateway's side of the compiled config (gateway.Compiled).
func (a *Authenticator) Policy() *gateway.Policy { return a.policy }

var _ gateway.Compiled = (*Authenticator)(nil)
