// Package oauth is the authkit-oauth plugin's core: it validates OAuth 2.0
// bearer access tokens — JWTs locally against the provider's keys, opaque
// tokens by RFC 7662 introspection — and maps them to Kong consumers.
package oauth

import (
	"encoding/json"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// PluginName is the authkit-oauth plugin's name (= its binary's name).
const PluginName = "authkit-oauth"

// Config is authkit-oauth's configuration, exactly as kong.yaml spells it.
type Config struct {
	// Issuer is the provider's issuer URL: keys (and the introspection endpoint) are found by discovery at <issuer>/.well-known/openid-configuration, falling back to RFC 8414 /.well-known/oauth-authorization-server; the document's issuer must equal it. Default: "".
	Issuer string `json:"issuer"`
	// JWKSURI is the key set URL, overriding discovery. Default: "" (from discovery).
	JWKSURI string `json:"jwks_uri"`
	// StaticJWKS is a JWKS JSON document for offline setups; it may hold HMAC ("oct") keys, which a remote set never may. Default: "".
	StaticJWKS string `json:"static_jwks"`
	// AllowedIssuers are the accepted iss values (exact match). Default: [issuer].
	AllowedIssuers []string `json:"allowed_issuers"`
	// Audiences: the token's aud (string or array) must contain one of them (RFC 9068 §4); empty skips the check, which RFC 9068 advises against. Default: [].
	Audiences []string `json:"audiences"`
	// AllowedAlgorithms lists the JWS algorithms accepted; "none" is always refused, HMAC only with static keys. Default: ["RS256","RS384","RS512","PS256","PS384","PS512","ES256","ES384","EdDSA"].
	AllowedAlgorithms []string `json:"allowed_algorithms"`
	// LeewaySeconds tolerates clock skew on exp, nbf and iat. Default: 30.
	LeewaySeconds *int `json:"leeway_seconds"`
	// MaxTokenAgeSeconds refuses tokens whose iat is older than this; 0 is off. Default: 0.
	MaxTokenAgeSeconds int `json:"max_token_age_seconds"`
	// RequireTypATJWT requires the JWT header typ "at+jwt" (RFC 9068 §4), refusing ID tokens and other JWTs. Default: false.
	RequireTypATJWT bool `json:"require_typ_at_jwt"`
	// RequiredScopes the token must carry; failure is 403 insufficient_scope. Default: [].
	RequiredScopes []string `json:"required_scopes"`
	// ScopeMatch is "all" (every required scope) or "any" (at least one). Default: "all".
	ScopeMatch string `json:"scope_match"`
	// ScopeClaims are the claims scopes are read from, in order (a space-delimited string or an array). Default: ["scope","scp"].
	ScopeClaims []string `json:"scope_claims"`
	// AllowedClientIDs: the token's client_id (else azp) must be one of them; empty allows any. Default: [].
	AllowedClientIDs []string `json:"allowed_client_ids"`
	// TokenQueryParam also accepts the token in this query parameter (RFC 6750 §2.3; discouraged); empty is off. Default: "".
	TokenQueryParam string `json:"token_query_param"`
	// TokenCookie also accepts the token in this cookie; empty is off. Default: "".
	TokenCookie string `json:"token_cookie"`
	// TokenMode is "jwt" (local validation only), "introspection" (RFC 7662 only) or "auto" (a JWT-shaped token is validated locally when keys are configured, anything else is introspected). Default: "auto".
	TokenMode string `json:"token_mode"`
	// JWKSMinRefreshSeconds is the least time between two key set fetches, so a flood of unknown kids cannot hammer the provider. Default: 10.
	JWKSMinRefreshSeconds *int `json:"jwks_min_refresh_seconds"`
	// JWKSCacheTTLSeconds is how long fetched keys (and the discovery document) are used before a refresh. Default: 3600.
	JWKSCacheTTLSeconds *int `json:"jwks_cache_ttl_seconds"`
	// IntrospectionEndpoint is the RFC 7662 endpoint; empty takes introspection_endpoint from discovery. Default: "".
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// IntrospectionClientID is the gateway's own client id at the introspection endpoint. Default: "".
	IntrospectionClientID string `json:"introspection_client_id"`
	// IntrospectionClientSecret is the gateway's own client secret (never logged). Default: "".
	IntrospectionClientSecret string `json:"introspection_client_secret"`
	// IntrospectionAuthMethod is client_secret_basic, client_secret_post or none. Default: "client_secret_basic".
	IntrospectionAuthMethod string `json:"introspection_auth_method"`
	// TokenTypeHint is sent with each introspection request; empty sends none. Default: "access_token".
	TokenTypeHint *string `json:"token_type_hint"`
	// IntrospectionCacheTTLSeconds caps how long after it was fetched an active answer is reused by this route (never beyond the token's exp, RFC 7662 §4); 0 never reuses one. Default: 300.
	IntrospectionCacheTTLSeconds *int `json:"introspection_cache_ttl_seconds"`
	// IntrospectionNegativeTTLSeconds is how long after it was fetched an inactive answer is reused by this route; 0 never reuses one. Default: 10.
	IntrospectionNegativeTTLSeconds *int `json:"introspection_negative_ttl_seconds"`
	// HTTPTimeoutMS bounds each request to the provider (discovery, JWKS, introspection). Default: 3000.
	HTTPTimeoutMS *int `json:"http_timeout_ms"`
	// ConsumerClaim names the claim (e.g. sub or client_id) whose value is the Kong consumer; empty maps no consumer. Default: "".
	ConsumerClaim string `json:"consumer_claim"`
	// ConsumerBy is "username" (Kong consumer id or username) or "custom_id" (Kong's PDK has no lookup by custom_id: the request is authenticated as a consumer entity carrying only that custom_id). Default: "username".
	ConsumerBy string `json:"consumer_by"`
	// ConsumerOptional accepts a valid token whose consumer does not exist in Kong (or that lacks the claim), without a consumer. Default: false.
	ConsumerOptional bool `json:"consumer_optional"`
	// Anonymous is the consumer (username or id) to use when a token is missing or invalid; provider failures are refused regardless. Default: "".
	Anonymous string `json:"anonymous"`
	// HideCredentials removes the token (header, query parameter or cookie) before proxying. Default: false.
	HideCredentials bool `json:"hide_credentials"`
	// ClaimsToHeaders maps claim names to upstream request headers (scalars as text, arrays joined by spaces); headers of absent claims, and of claims with a control character, are removed. Host, framing (Content-Length, Transfer-Encoding…) and identity headers (Authorization, X-Consumer-*…) are refused as targets. Default: {}.
	ClaimsToHeaders map[string]string `json:"claims_to_headers"`
	// RunOnPreflight authenticates CORS preflight (OPTIONS) requests too. Default: true.
	RunOnPreflight *bool `json:"run_on_preflight"`
	// Realm is sent in `WWW-Authenticate: Bearer realm="…"`. Default: "".
	Realm string `json:"realm"`
	// ProofOfPossessionDPoP checks DPoP-bound tokens (RFC 9449): "off", "optional" (tokens bound to a key, cnf.jkt, must come as `Authorization: DPoP` with a valid proof; unbound bearer tokens still pass) or "strict" (every token must be DPoP-bound and proven). Default: "off".
	ProofOfPossessionDPoP string `json:"proof_of_possession_dpop"`
	// DPoPProofLifetime is how many seconds after its iat a DPoP proof is accepted (plus leeway_seconds), how long its jti is remembered, and how often nonces rotate. Default: 300.
	DPoPProofLifetime *int `json:"dpop_proof_lifetime"`
	// DPoPUseNonce requires DPoP proofs to carry a nonce issued by the gateway (RFC 9449 §8, §9): a proof without one, or with a stale one, is answered 401 use_dpop_nonce with a DPoP-Nonce header. Default: false.
	DPoPUseNonce bool `json:"dpop_use_nonce"`
	// DPoPAllowedAlgs lists the JWS algorithms accepted for DPoP proofs (asymmetric only: none and HMAC are refused). Default: the asymmetric entries of allowed_algorithms.
	DPoPAllowedAlgs []string `json:"dpop_allowed_algs"`
	// ProofOfPossessionMTLS checks certificate-bound tokens (RFC 8705 §3): "off", "optional" (a token with cnf.x5t#S256 must come over a TLS connection with that client certificate) or "strict" (every token must be certificate-bound). Needs Kong's HTTPS listener to pass the certificate on (README, Certificate-bound tokens). Default: "off".
	ProofOfPossessionMTLS string `json:"proof_of_possession_mtls"`
	// LogLevel is the Kong log level of client refusals (debug, info, notice, warn, err, crit, alert); provider and gateway failures are always logged at err. Default: "notice".
	LogLevel string `json:"log_level"`

	meta gateway.Meta
}

// UnmarshalJSON decodes what Kong sends, keeping Kong's metadata for logs.
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config
	return gateway.DecodeConfig(b, (*plain)(c), &c.meta)
}

// Meta returns Kong's metadata for this config.
func (c *Config) Meta() *gateway.Meta { return &c.meta }

// Prepare compiles the config once per process.
func (c *Config) Prepare() (*gateway.Policy, gateway.Authenticator, error) {
	a, err := gateway.Compile(PluginName, &c.meta, c.Compile)
	if err != nil {
		return nil, nil, err
	}
	return a.policy, a, nil
}

// String renders the config without the introspection secret.
func (c *Config) String() string {
	cp := *c
	if cp.IntrospectionClientSecret != "" {
		cp.IntrospectionClientSecret = "[redacted]"
	}
	b, _ := json.Marshal(&cp)
	return string(b)
}
