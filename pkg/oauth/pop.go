package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
	"github.com/kong-authkit/kong-authkit/pkg/bearer"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// Proof-of-possession modes (proof_of_possession_dpop,
// proof_of_possession_mtls), named as in Kong Enterprise's openid-connect.
const (
	PoPOff      = "off"
	PoPOptional = "optional"
	PoPStrict   = "strict"
)

// Headers of sender-constrained requests.
const (
	// HeaderDPoP carries the proof (RFC 9449 §4.1).
	HeaderDPoP = "DPoP"
	// HeaderDPoPNonce carries a server nonce in answers (RFC 9449 §8).
	HeaderDPoPNonce = "DPoP-Nonce"
	// HeaderClientCert is where nginx puts the TLS client certificate
	// (`$ssl_client_escaped_cert`, URL-escaped PEM) for the plugin:
	// `nginx_proxy_more_set_input_headers = "X-Client-Cert:
	// $ssl_client_escaped_cert"`. headers-more replaces a client-sent
	// value, and removes the header when there is no certificate.
	HeaderClientCert = "X-Client-Cert"
)

// DefaultDPoPProofLifetime is dpop_proof_lifetime's default, in seconds.
const DefaultDPoPProofLifetime = 300

// possession checks sender-constrained tokens: DPoP proofs (RFC 9449) and
// certificate binding (RFC 8705). Compiled once per config.
type possession struct {
	dpopMode string
	dpop     *dpop.Verifier
	mtlsMode string
	// replay is the Redis store of spent proofs (policy redis), closed
	// with the compiled config (release.go).
	replay *redisstore.Store
}

func checkMode(field, v string) (string, error) {
	switch v {
	case "":
		return PoPOff, nil
	case PoPOff, PoPOptional, PoPStrict:
		return v, nil
	}
	return "", fmt.Errorf("%s: %q is not off, optional or strict", field, v)
}

// compilePossession validates the proof-of-possession fields; nil when
// both modes are off. With policy redis (shared), spent DPoP proofs are
// recorded in Redis, so a replay to another node is caught.
func (c *Config) compilePossession(leeway time.Duration, shared *redisstore.Settings) (*possession, []error) {
	var errs []error
	dm, err := checkMode("proof_of_possession_dpop", *c.ProofOfPossessionDPoP)
	if err != nil {
		errs = append(errs, err)
	}
	mm, err := checkMode("proof_of_possession_mtls", *c.ProofOfPossessionMTLS)
	if err != nil {
		errs = append(errs, err)
	}
	lifetime := DefaultDPoPProofLifetime
	if c.DPoPProofLifetime != nil {
		lifetime = *c.DPoPProofLifetime
	}
	if lifetime < 1 {
		errs = append(errs, fmt.Errorf("dpop_proof_lifetime: must be ≥ 1, got %d", lifetime))
	}
	algs := c.DPoPAllowedAlgs
	if len(algs) == 0 {
		// The asymmetric algorithms already allowed for tokens (an
		// HMAC-only token list, for static keys, leaves the default).
		if algs = dpop.Asymmetric(c.AllowedAlgorithms); len(algs) == 0 {
			algs = dpop.DefaultAlgorithms
		}
	}
	p := &possession{dpopMode: dm, mtlsMode: mm}
	opts := dpop.Options{Algorithms: algs, Lifetime: time.Duration(lifetime) * time.Second, Leeway: leeway}
	var store *redisstore.Store
	if dm != PoPOff && shared != nil && shared.Redis != nil {
		if store, err = redisstore.New(shared); err != nil {
			errs = append(errs, err)
		}
		opts.Replay = &sharedReplay{store: store, local: dpop.ProcessStore()}
		p.replay = store
	}
	if c.DPoPUseNonce {
		// Nonces rotate once per proof lifetime (RFC 9449 §8.2); with
		// policy redis every node shares each period's secret.
		opts.Nonces = dpop.NewNonces(dpop.ProcessNonceSecret(), opts.Lifetime, nil)
		if store != nil {
			opts.Nonces = opts.Nonces.Shared(newSharedNonceKeys(store))
		}
	}
	if p.dpop, err = dpop.NewVerifier(opts); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 || dm == PoPOff && mm == PoPOff {
		p.close()
		return nil, errs
	}
	return p, nil
}

// facts are the request facts the checks read, fetched with the headers.
func (p *possession) facts() gateway.Facts {
	if p == nil {
		return 0
	}
	f := gateway.FactURL // htu (DPoP); the connection's scheme (mTLS)
	if p.dpopMode != PoPOff {
		f |= gateway.FactMethod
	}
	return f
}

func (p *possession) acceptDPoP() bool { return p != nil && p.dpopMode != PoPOff }

// challenges replaces the Bearer challenge once DPoP is on.
func (p *possession) challenges(realm string) gateway.Challenges {
	if !p.acceptDPoP() {
		return nil
	}
	return gateway.DPoPChallenges(realm, p.dpop.Algorithms(), p.dpopMode == PoPOptional)
}

// ownedHeaders are cleared on every path that reaches the upstream: the
// certificate header belongs to this plugin once it reads it.
func (p *possession) ownedHeaders() []string {
	if p == nil || p.mtlsMode == PoPOff {
		return nil
	}
	return []string{HeaderClientCert}
}

// proof runs RFC 9449 §4.3 (1) to (12) for a token sent with the DPoP
// scheme, before the token is validated: everything but the binding to the
// token's key and the replay check, which need a valid token first.
func (p *possession) proof(ctx context.Context, r *gateway.Request, token string) (*dpop.Proof, error) {
	vals := r.HeaderValues(HeaderDPoP)
	n := 0
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			n += 1 + strings.Count(v, ",") // a compact JWS has no comma: a list is several
		}
	}
	switch {
	case n == 0:
		return nil, errcode.New(errcode.DPoPProofMissing, "Authorization: DPoP without a DPoP header")
	case n > 1 || len(vals) > 1:
		return nil, errcode.New(errcode.DPoPProofMultiple, "%d DPoP proofs in %d headers", n, len(vals)).With("count", n)
	}
	u, err := r.URL()
	if err != nil {
		return nil, errcode.Wrap(errcode.InternalError, fmt.Errorf("read the request URI: %w", err))
	}
	port := ""
	if u.ForwardedPort > 0 {
		port = strconv.Itoa(u.ForwardedPort)
	}
	uri := dpop.BuildURI(u.ForwardedScheme, u.ForwardedHost, port, dpop.RequestPath(u.PathWithQuery))
	return p.dpop.CheckContext(ctx, strings.TrimSpace(vals[0]), dpop.Request{Method: r.Method(), URI: uri, AccessToken: token})
}

// bind checks the validated token against how it was presented: its DPoP
// key (RFC 9449 §6, §7) and its certificate (RFC 8705 §3), then spends the
// proof's jti. It returns the response headers of a success (a new
// DPoP-Nonce).
func (p *possession) bind(ctx context.Context, r *gateway.Request, scheme string, proof *dpop.Proof, claims *accesstoken.Claims, how string) (map[string]string, error) {
	cnf, err := accesstoken.ConfirmationOf(claims)
	if err != nil {
		return nil, err
	}
	if p.dpopMode != PoPOff {
		// An introspection answer may say DPoP in token_type alone (RFC
		// 9449 §6.2 has cnf.jkt too, but not every provider sends both).
		tokenType, _ := claims.Raw["token_type"].(string)
		bound := cnf.JKT != "" || how == "introspection" && strings.EqualFold(tokenType, "DPoP")
		switch {
		case scheme == bearer.SchemeDPoP:
			if err := dpop.Bind(proof, cnf.JKT); err != nil {
				return nil, err
			}
		case bound:
			// RFC 9449 §7.2: a DPoP-bound token without its proof is
			// exactly what a thief holds.
			return nil, errcode.New(errcode.DPoPDowngrade, "a DPoP-bound token came as Bearer, without proof").With("jkt", cnf.JKT)
		case p.dpopMode == PoPStrict:
			return nil, errcode.New(errcode.DPoPTokenNotBound, "proof_of_possession_dpop is strict and the token came as Bearer")
		}
	}
	if p.mtlsMode != PoPOff {
		switch {
		case cnf.X5TS256 != "":
			if err := checkCertificate(r, cnf.X5TS256); err != nil {
				return nil, err
			}
		case p.mtlsMode == PoPStrict:
			return nil, errcode.New(errcode.MTLSTokenNotBound, "proof_of_possession_mtls is strict and the token has no cnf.x5t#S256")
		}
	}
	if proof == nil {
		return nil, nil
	}
	// Last: only a request that passed every check uses up its jti.
	if err := p.dpop.Spend(ctx, proof); err != nil {
		return nil, err
	}
	if n := p.dpop.NextNonce(ctx, proof); n != "" {
		return map[string]string{HeaderDPoPNonce: n}, nil
	}
	return nil, nil
}

// checkCertificate compares the TLS client certificate with the token's
// x5t#S256 (RFC 8705 §3.1: base64url SHA-256 of the DER certificate).
//
// The certificate comes from the X-Client-Cert header that nginx sets
// from the TLS session; it is believed only on a connection that is TLS
// to Kong itself (kong.request.get_scheme, not the forwarded scheme). On
// plain HTTP nginx has no certificate, so such a header can only come from
// the client, or from a proxy in front that Kong cannot vouch for.
func checkCertificate(r *gateway.Request, want string) error {
	vals := r.HeaderValues(HeaderClientCert)
	u, err := r.URL()
	if err != nil {
		return errcode.Wrap(errcode.InternalError, fmt.Errorf("read the request scheme: %w", err))
	}
	if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
		return errcode.New(errcode.MTLSCertMissing, "no client certificate on the connection").With("x5t#S256", want)
	}
	if u.Scheme != "https" {
		return errcode.New(errcode.MTLSCertMissing, "%s header on a %s connection ignored: only a TLS connection to Kong has a client certificate", HeaderClientCert, u.Scheme).
			With("x5t#S256", want).With("scheme", u.Scheme)
	}
	if len(vals) > 1 {
		return errcode.New(errcode.MTLSCertMissing, "%d %s headers: not one certificate", len(vals), HeaderClientCert)
	}
	got, err := CertThumbprint(vals[0])
	if err != nil {
		return errcode.Wrapf(errcode.MTLSCertMissing, err, "unreadable %s header: %v", HeaderClientCert, err)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errcode.New(errcode.MTLSCertMismatch, "the certificate's x5t#S256 is %s, the token is bound to %s", got, clip(want)).
			With("x5t#S256", clip(want)).With("cert_x5t#S256", got)
	}
	return nil
}

// CertThumbprint is the x5t#S256 of a certificate as nginx's
// $ssl_client_escaped_cert holds it: URL-escaped PEM.
func CertThumbprint(escapedPEM string) (string, error) {
	s, err := url.PathUnescape(escapedPEM)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return "", errors.New("not a PEM certificate")
	}
	sum := sha256.Sum256(block.Bytes)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// dpopProof checks the proof of a token sent with the DPoP scheme; nil for
// a bearer token.
func (p *possession) dpopProof(ctx context.Context, r *gateway.Request, cred bearer.Credential) (*dpop.Proof, error) {
	if !p.acceptDPoP() || cred.Scheme != bearer.SchemeDPoP {
		return nil, nil
	}
	return p.proof(ctx, r, cred.Token)
}
