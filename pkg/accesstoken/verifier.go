// Package accesstoken validates OAuth 2.0 access tokens at a resource
// server: JWT access tokens (RFC 9068) signed with keys from a jwks.Source,
// and the claim rules (Policy) that later also apply to RFC 7662
// introspection answers. Every refusal is an *errcode.Error naming exactly
// why, with expected and received values as log fields.
package accesstoken

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// MaxTokenLen bounds the token Verify accepts (8 KiB, as pkg/bearer does).
const MaxTokenLen = 8 << 10

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	// AllowedAlgorithms is the JWA allow-list (RFC 8725 §3.1). Unknown
	// names and "none" are errors. Default: DefaultAlgorithms (no HS*).
	AllowedAlgorithms []string
	// RequireTypATJWT refuses tokens whose typ header is not "at+jwt" or
	// "application/at+jwt" (RFC 9068 §4, RFC 8725 §3.11), so an ID token
	// cannot be replayed as an access token. Default: false.
	RequireTypATJWT bool
	// Keys finds verification keys by kid. Required.
	Keys jwks.Source
	// Policy holds the claim rules. Default: exp required, nothing else.
	Policy *Policy
	// CacheSize bounds the verified-token cache: 0 means DefaultCacheSize,
	// a negative value switches the cache off. Default: 10000.
	CacheSize int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Verifier validates JWT access tokens. It is safe for concurrent use and
// is meant to live as long as its plugin configuration: its cache is shared
// by every request of that configuration.
type Verifier struct {
	algs    map[string]*algorithm
	allowed []string
	typAT   bool
	keys    jwks.Source
	policy  *Policy
	cache   *tokenCache
	now     func() time.Time

	// verifySig is a seam for tests that count signature checks.
	verifySig func(m jwt.SigningMethod, signingString string, sig []byte, key any) error
}

// NewVerifier validates opts and builds a Verifier.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	algs, allowed, err := compileAlgorithms(opts.AllowedAlgorithms)
	if err != nil {
		return nil, err
	}
	if opts.Keys == nil {
		return nil, errors.New("keys: a jwks.Source is required")
	}
	v := &Verifier{
		algs:    algs,
		allowed: allowed,
		typAT:   opts.RequireTypATJWT,
		keys:    opts.Keys,
		policy:  opts.Policy,
		now:     opts.Now,
		verifySig: func(m jwt.SigningMethod, s string, sig []byte, key any) error {
			return m.Verify(s, sig, key)
		},
	}
	if v.policy == nil {
		if v.policy, err = NewPolicy(PolicyOptions{RequireExp: true}); err != nil {
			return nil, fmt.Errorf("default policy: %w", err)
		}
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.cache = newTokenCache(opts.CacheSize, v.now)
	return v, nil
}

// Verify validates a compact-serialised JWS access token and returns its
// claims (shared with the cache: read-only). The steps, cheapest first:
//
//  1. Structure: at most MaxTokenLen bytes, exactly three segments
//     (RFC 7515 §7.1) → OAUTH_TOKEN_MALFORMED naming the part.
//  2. Cache: a token verified before is answered from the cache after
//     re-running the policy with the current time (exp, nbf, iat, max
//     age: time moves, the rest is cheap), as long as the key set still
//     maps its kid to the key that verified it (a withdrawn key stops its
//     tokens at the next refresh). Only tokens that passed every step
//     below under this same Verifier are ever cached, so the header
//     checks need not be repeated.
//  3. Header (ParseHeader): base64url and JSON → OAUTH_TOKEN_MALFORMED;
//     crit → OAUTH_TOKEN_MALFORMED; alg missing, "none" (RFC 8725 §3.2) or
//     not allowed (§3.1) → OAUTH_ALGORITHM_NOT_ALLOWED; typ when required
//     (RFC 9068 §4, RFC 8725 §3.11) → OAUTH_TOKEN_TYPE_INVALID. jku, x5u,
//     jwk and x5c are ignored (RFC 8725 §3.10). Payload and signature
//     must be base64url → OAUTH_TOKEN_MALFORMED.
//  4. Key: Keys.Lookup(kid) → OAUTH_KEY_NOT_FOUND; provider errors pass
//     through unchanged.
//  5. Alg/key fit (checkKey, RFC 8725 §2.1, §3.1) → OAUTH_ALGORITHM_NOT_ALLOWED.
//  6. Signature with the key the Source returned — never a key from the
//     token (no jwt.Parse keyfunc trusting the header) → OAUTH_SIGNATURE_INVALID.
//  7. Claims: JSON and types → OAUTH_TOKEN_MALFORMED; a token_use or typ
//     claim naming another kind of token (CheckTokenUse) →
//     OAUTH_TOKEN_TYPE_INVALID; then the Policy, with exp always required
//     (RFC 9068 §2.2).
//
// Claims come after the signature on purpose: a claim error must never be
// reported for a token whose signature is bad. Otherwise a payload edited in
// transit would surface as, say, OAUTH_ISSUER_MISMATCH instead of
// OAUTH_SIGNATURE_INVALID, sending the operator after the wrong problem,
// and the claim fields would echo attacker-chosen values as if the
// provider had issued them. Every check before the signature is cheap: no
// crypto, and no key fetch before the header has passed.
//
// Concurrent calls for the same uncached token share one key lookup and
// one signature check (singleflight); the first caller's ctx governs it.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	now := v.now()
	if len(token) > MaxTokenLen {
		return nil, errcode.New(errcode.TokenMalformed, "token is %d bytes, the limit is %d", len(token), MaxTokenLen).
			With("length", len(token)).With("max_length", MaxTokenLen)
	}
	i := strings.IndexByte(token, '.')
	j := i + 1 + strings.IndexByte(token[i+1:], '.')
	if i < 0 || j <= i || strings.IndexByte(token[j+1:], '.') >= 0 {
		return nil, errcode.New(errcode.TokenMalformed, "not a compact JWS: %d segments, want 3", strings.Count(token, ".")+1).
			With("part", "token").With("segments", strings.Count(token, ".")+1)
	}

	key := cacheKey(token)
	stale, ok := v.cache.get(key)
	if ok {
		current, err := v.keys.Lookup(ctx, stale.kid)
		if err != nil {
			v.cache.count(false)
			return nil, err // the key is gone (or the set cannot be had)
		}
		if sameKey(current, stale.key) {
			v.cache.count(true)
			if err := v.policy.check(stale.claims, now, true); err != nil {
				return nil, err
			}
			return stale.claims, nil
		}
		// The kid names other key material now: verify again.
	}
	v.cache.count(false)

	hdr, err := ParseHeader(token[:i])
	if err != nil {
		return nil, err
	}
	alg, err := v.checkHeader(hdr)
	if err != nil {
		return nil, err
	}
	payload, err := decodeSegment(token[i+1:j], "payload")
	if err != nil {
		return nil, err
	}
	sig, err := decodeSegment(token[j+1:], "signature")
	if err != nil {
		return nil, err
	}

	e, err := v.cache.do(key, func() (*verified, error) {
		if e, ok := v.cache.get(key); ok && e != stale { // a flight that just ended filled it
			return e, nil
		}
		c, k, err := v.verifyCold(ctx, hdr, alg, token[:j], sig, payload)
		if err != nil {
			return nil, err
		}
		e := &verified{claims: c, kid: hdr.Kid, key: k}
		// Cache inside the flight, so a caller arriving just after it
		// ends finds the entry instead of starting a second flight.
		if v.policy.check(c, now, true) == nil {
			v.cache.put(key, e, now)
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	if err := v.policy.check(e.claims, now, true); err != nil {
		return nil, err
	}
	return e.claims, nil
}

// checkHeader applies the allow-list and the typ rule to a parsed header.
func (v *Verifier) checkHeader(h *Header) (*algorithm, error) {
	switch {
	case h.Alg == "":
		return nil, errcode.New(errcode.AlgorithmNotAllowed, "header has no alg").
			With("alg", "").With("allowed", v.allowed)
	case strings.EqualFold(h.Alg, "none"):
		return nil, errcode.New(errcode.AlgorithmNotAllowed, "alg none: unsecured JWTs are never accepted (RFC 8725 §3.2)").
			With("alg", clip(h.Alg)).With("allowed", v.allowed)
	}
	a, ok := v.algs[h.Alg]
	if !ok {
		return nil, errcode.New(errcode.AlgorithmNotAllowed, "alg %q is not in the allow-list", clip(h.Alg)).
			With("alg", clip(h.Alg)).With("allowed", v.allowed)
	}
	if v.typAT && !isATJWT(h.Typ) {
		return nil, errcode.New(errcode.TokenTypeInvalid, "typ %q is not at+jwt", clip(h.Typ)).
			With("typ", clip(h.Typ)).With("expected_typ", "at+jwt")
	}
	return a, nil
}

// verifyCold does the key and crypto work: steps 4 to 7a of Verify. It
// returns the key that verified the token too.
func (v *Verifier) verifyCold(ctx context.Context, h *Header, a *algorithm, signingString string, sig, payload []byte) (*Claims, *jwks.Key, error) {
	k, err := v.keys.Lookup(ctx, h.Kid)
	if err != nil {
		return nil, nil, err // KeyNotFound or a provider error, unchanged
	}
	if k == nil || k.Public == nil {
		return nil, nil, errcode.New(errcode.KeyNotFound, "no key for kid %q", clip(h.Kid)).With("kid", clip(h.Kid))
	}
	if k.Use == "enc" {
		return nil, nil, errcode.New(errcode.KeyNotFound, "key %q is an encryption key (use=enc)", clip(h.Kid)).
			With("kid", clip(h.Kid))
	}
	if err := checkKey(a, k); err != nil {
		return nil, nil, err
	}
	if err := v.verifySig(a.method, signingString, sig, k.Public); err != nil {
		return nil, nil, errcode.Wrap(errcode.SignatureInvalid, err).With("alg", a.name).With("kid", clip(h.Kid))
	}
	c, err := ParseClaims(payload)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckTokenUse(c.Raw, false); err != nil {
		return nil, nil, err
	}
	c.TokenType = h.Typ
	return c, k, nil
}

// Algorithms is the allow-list in effect (the configured one, or
// DefaultAlgorithms).
func (v *Verifier) Algorithms() []string { return slices.Clone(v.allowed) }

// RequiresTypATJWT reports whether tokens must carry typ "at+jwt".
func (v *Verifier) RequiresTypATJWT() bool { return v.typAT }
