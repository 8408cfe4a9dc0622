package dpop

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Options configure a Verifier.
type Options struct {
	// Algorithms is dpop_allowed_algs: asymmetric JWS algorithms only.
	// Default: DefaultAlgorithms.
	Algorithms []string
	// Lifetime is how long after its iat a proof is accepted
	// (dpop_proof_lifetime). Default: 300 s.
	Lifetime time.Duration
	// Leeway tolerates clock skew on iat, both ways.
	Leeway time.Duration
	// Replay is the store of seen proofs. Default: ProcessStore().
	Replay ReplayStore
	// Retention is how long Replay keeps a jti, shared by every
	// configuration that uses Replay. Default: ProcessRetention().
	Retention *Retention
	// Nonces, when set, requires server nonces (dpop_use_nonce).
	Nonces *Nonces
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Verifier checks DPoP proofs for one configuration. It is safe for
// concurrent use.
type Verifier struct {
	algs     map[string]*algorithm
	allowed  []string
	lifetime time.Duration
	leeway   time.Duration
	replay   ReplayStore
	retain   *Retention
	nonces   *Nonces
	now      func() time.Time
}

// NewVerifier validates opts.
func NewVerifier(opts Options) (*Verifier, error) {
	algs, allowed, err := compileAlgorithms("dpop_allowed_algs", opts.Algorithms)
	if err != nil {
		return nil, err
	}
	v := &Verifier{algs: algs, allowed: allowed, lifetime: opts.Lifetime, leeway: opts.Leeway,
		replay: opts.Replay, retain: opts.Retention, nonces: opts.Nonces, now: opts.Now}
	if v.lifetime <= 0 {
		v.lifetime = 300 * time.Second
	}
	if v.replay == nil {
		v.replay = ProcessStore()
	}
	if v.retain == nil {
		v.retain = ProcessRetention()
	}
	// Before the first check: from now on every spend, by any
	// configuration, keeps a jti for at least this window (§11.1).
	v.retain.Register(v.lifetime + v.leeway)
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Algorithms lists the accepted algorithms, for the challenge's algs
// parameter (RFC 9449 §7.1).
func (v *Verifier) Algorithms() []string { return v.allowed }

// Request is what a proof is checked against.
type Request struct {
	// Method is the request method (htm).
	Method string
	// URI is the request URI as BuildURI makes it (htu).
	URI string
	// AccessToken is the token sent with the proof (ath).
	AccessToken string
}

// Check runs RFC 9449 §4.3 (2) to (12) on one proof, in this order:
// structure, typ, alg, jwk and signature (parse: no crypto before the
// header passed, and no claim judged before the signature verified, so
// an edited proof is reported as a bad signature, not as a claim
// mismatch), then htm, htu, nonce (when required), iat, ath. What is
// left for the caller: the token's binding (Bind) once the token itself
// is valid, and the replay check (Spend) last, so that only a request
// that passed everything uses up its jti.
func (v *Verifier) Check(proof string, r Request) (*Proof, error) {
	return v.CheckContext(context.Background(), proof, r)
}

// CheckContext is Check with a context for the nonce secrets' store
// (policy redis): a strict store's failure is its own error
// (REDIS_UNAVAILABLE).
func (v *Verifier) CheckContext(ctx context.Context, proof string, r Request) (*Proof, error) {
	p, err := parse(proof, v.algs, v.allowed)
	if err != nil {
		return nil, err
	}
	// (8) htm: "the HTTP method of the request", compared exactly (RFC
	// 9110 §9.1: methods are case-sensitive).
	if p.HTM != r.Method {
		return nil, errcode.New(errcode.DPoPMethodMismatch, "htm %q, the request is %s", clip(p.HTM), clip(r.Method)).
			With("htm", clip(p.HTM)).With("method", clip(r.Method))
	}
	// (9) htu, after RFC 3986 §6.2.2/§6.2.3 normalisation of both sides.
	htu, err := NormalizeURI(p.HTU)
	if err != nil || htu != r.URI {
		e := errcode.New(errcode.DPoPURIMismatch, "htu %q, the request URI is %q", clip(p.HTU), r.URI).
			With("htu", clip(p.HTU)).With("request_uri", r.URI)
		if err != nil {
			e = e.With("reason", err.Error())
		}
		return nil, e
	}
	// (10) nonce, when the server requires them (§8, §9).
	if v.nonces != nil {
		if !p.HasNonce {
			return nil, v.nonceError(ctx, errcode.DPoPNonceRequired, "the proof has no nonce")
		}
		ok, _, err := v.nonces.Valid(ctx, p.Nonce)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, v.nonceError(ctx, errcode.DPoPNonceInvalid, "the proof's nonce is stale or not issued here")
		}
	}
	// (11) iat within the acceptance window.
	now := v.now()
	switch {
	case p.IssuedAt.After(now.Add(v.leeway)):
		return nil, errcode.New(errcode.DPoPProofNotYetValid, "iat is %s in the future", p.IssuedAt.Sub(now).Round(time.Second)).
			With("iat", p.IssuedAt.Unix()).With("leeway_seconds", int(v.leeway/time.Second))
	case p.IssuedAt.Before(now.Add(-v.lifetime - v.leeway)):
		return nil, errcode.New(errcode.DPoPProofExpired, "iat is %s old, the lifetime is %s", now.Sub(p.IssuedAt).Round(time.Second), v.lifetime).
			With("iat", p.IssuedAt.Unix()).With("dpop_proof_lifetime", int(v.lifetime/time.Second))
	}
	if err := v.remembered(p.IssuedAt, now); err != nil {
		return nil, err
	}
	// (12) ath: the proof is for this very access token (§7).
	if !p.HasATH {
		return nil, errcode.New(errcode.DPoPATHMismatch, "the proof has no ath claim")
	}
	if want := TokenHash(r.AccessToken); subtle.ConstantTimeCompare([]byte(p.ATH), []byte(want)) != 1 {
		return nil, errcode.New(errcode.DPoPATHMismatch, "ath is not the hash of the access token sent").With("ath", clip(p.ATH))
	}
	return p, nil
}

func (v *Verifier) nonceError(ctx context.Context, c errcode.Code, detail string) error {
	// §9: the answer carries the nonce to use in a DPoP-Nonce header.
	n, err := v.nonces.Current(ctx)
	if err != nil {
		return err // a strict shared store that failed: no nonce to give
	}
	return errcode.New(c, "%s", detail).WithHeader("DPoP-Nonce", n)
}

// NextNonce returns the nonce to send with a successful answer (§8.2), or
// "" when the proof already used the current one or nonces are off. A
// store failure gives "" too: the proof's nonce stays valid through the
// next period, so the client loses nothing.
func (v *Verifier) NextNonce(ctx context.Context, p *Proof) string {
	if v.nonces == nil {
		return ""
	}
	if _, current, err := v.nonces.Valid(ctx, p.Nonce); current || err != nil {
		return ""
	}
	n, _ := v.nonces.Current(ctx)
	return n
}

// Bind checks that the access token is bound to the proof's key (RFC
// 9449 §4.3 (12), §6.1, §7.1): its confirmation jkt equals the proof key's
// RFC 7638 thumbprint. jkt is "" for a token without one.
func Bind(p *Proof, jkt string) error {
	if jkt == "" {
		return errcode.New(errcode.DPoPTokenNotBound, "the token has no cnf.jkt: it is a bearer token sent with the DPoP scheme")
	}
	if subtle.ConstantTimeCompare([]byte(jkt), []byte(p.Thumbprint)) != 1 {
		return errcode.New(errcode.DPoPKeyMismatch, "cnf.jkt %q is not the proof key's thumbprint %q", clip(jkt), p.Thumbprint).
			With("jkt", clip(jkt)).With("proof_jkt", p.Thumbprint)
	}
	return nil
}

// remembered refuses a proof older than the replay store provably
// remembers a proof of its iat (Retention.Guaranteed): after
// dpop_proof_lifetime was raised, a proof spent under the smaller window
// may be forgotten already, and accepting it could accept it twice
// (§11.1). The client makes a fresh proof, as for any expired one.
func (v *Verifier) remembered(iat, now time.Time) error {
	g := v.retain.Guaranteed(iat)
	if !iat.Before(now.Add(-g)) {
		return nil
	}
	return errcode.New(errcode.DPoPProofExpired, "iat is %s old; a proof of that age may have been spent under a shorter dpop_proof_lifetime and forgotten (kept %s): the raised lifetime applies to proofs made after it", now.Sub(iat).Round(time.Second), g).
		With("iat", iat.Unix()).With("dpop_proof_lifetime", int(v.lifetime/time.Second)).With("retained_seconds", int(g/time.Second))
}

// Spend records the proof's jti (RFC 9449 §4.3 (10), §11.1) for as long as
// any configuration of the process would accept the proof: until iat +
// the retention (the largest lifetime + leeway registered, Retention). A
// jti seen before is OAUTH_DPOP_PROOF_REPLAYED; a store failure refuses
// too (OAUTH_DPOP_REPLAY_STORE_FAILED).
func (v *Verifier) Spend(ctx context.Context, p *Proof) error {
	ttl := p.IssuedAt.Add(max(v.retain.Window(), v.lifetime+v.leeway)).Sub(v.now())
	if ttl < time.Second {
		ttl = time.Second
	}
	first, err := v.replay.FirstSeen(ctx, p.Thumbprint, ReplayKey(p.Thumbprint, p.JTI), ttl)
	var coded *errcode.Error
	switch {
	case errors.As(err, &coded):
		// The store's own verdict (a strict Redis store's
		// REDIS_UNAVAILABLE) is passed on as it is.
		return coded
	case errors.Is(err, ErrShareFull):
		// The thumbprint is a public key's hash, not a secret: the log
		// names who filled its share (the field Bind's refusals use).
		return errcode.Wrapf(errcode.DPoPReplayShareFull, err, "key %s holds its share of the replay store in unexpired proofs", p.Thumbprint).
			With("jkt", p.Thumbprint).With("store", "memory")
	case errors.Is(err, ErrStoreFull):
		return errcode.Wrapf(errcode.DPoPReplayStoreFailed, err, "the replay store is full").With("store", "memory")
	case err != nil:
		return errcode.Wrapf(errcode.DPoPReplayStoreFailed, err, "replay store: %v", err)
	case !first:
		return errcode.New(errcode.DPoPReplayed, "jti %q of this key was used before", clip(p.JTI)).With("jti", clip(p.JTI))
	}
	return nil
}

// Lifetime is dpop_proof_lifetime as compiled.
func (v *Verifier) Lifetime() time.Duration { return v.lifetime }

// UsesNonces reports whether proofs must carry a server nonce.
func (v *Verifier) UsesNonces() bool { return v.nonces != nil }
