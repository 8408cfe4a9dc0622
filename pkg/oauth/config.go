// Package oauth is the authkit-oauth plugin's core: it validates OAuth 2.0
// bearer access tokens — JWTs locally against the provider's keys, opaque
// tokens by RFC 7662 introspection — and maps them to Kong consumers.
package oauth

import (
	"encoding/json"

	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// PluginName is the authkit-oauth plugin's name (= its binary's name).
const PluginName = "authkit-oauth"

// Config is authkit-oauth's configuration, exactly as kong.yaml spells it.
// A field's default is its `default` tag (kongschema.ApplyDefaults), read
// by Compile, the README and Kong's schema alike; a field without one
// says in its comment what unset means.
type Config struct {
	// Issuer is the provider's issuer URL: keys (and the introspection endpoint) are found by discovery at <issuer>/.well-known/openid-configuration, falling back to RFC 8414 /.well-known/oauth-authorization-server; the document's issuer must equal it.
	Issuer string `json:"issuer" default:"" len_min:"0" match_any:"^$|^https?://[^/]" match_err:"must be an absolute http(s) URL"`
	// JWKSURI is the key set URL, overriding discovery; empty takes it from discovery.
	JWKSURI string `json:"jwks_uri" default:"" len_min:"0" match_any:"^$|^https?://[^/]" match_err:"must be an absolute http(s) URL"`
	// StaticJWKS is a JWKS JSON document for offline setups; it may hold HMAC ("oct") keys, which a remote set never may.
	StaticJWKS string `json:"static_jwks" default:"" len_min:"0"`
	// AllowedIssuers are the accepted iss values (exact match). Default: [issuer].
	AllowedIssuers []string `json:"allowed_issuers"`
	// Audiences: the token's aud (string or array) must contain one of them (RFC 9068 §4); empty skips the check, which RFC 9068 advises against.
	Audiences []string `json:"audiences" default:""`
	// AllowedAlgorithms lists the JWS algorithms accepted; "none" is always refused, HMAC only with static keys.
	AllowedAlgorithms []string `json:"allowed_algorithms" default:"RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,EdDSA"`
	// LeewaySeconds tolerates clock skew on exp, nbf and iat.
	LeewaySeconds *int `json:"leeway_seconds" default:"30" between:"0,2147483647"`
	// MaxTokenAgeSeconds refuses tokens whose iat is older than this; 0 is off.
	MaxTokenAgeSeconds int `json:"max_token_age_seconds" default:"0" between:"0,2147483647"`
	// RequireTypATJWT requires the JWT header typ "at+jwt" (RFC 9068 §4), refusing ID tokens and other JWTs.
	RequireTypATJWT bool `json:"require_typ_at_jwt" default:"false"`
	// RequiredScopes the token must carry; failure is 403 insufficient_scope.
	RequiredScopes []string `json:"required_scopes" default:""`
	// ScopeMatch is "all" (every required scope) or "any" (at least one).
	ScopeMatch *string `json:"scope_match" default:"all" one_of:"all,any"`
	// ScopeClaims are the claims scopes are read from, in order (a space-delimited string or an array).
	ScopeClaims []string `json:"scope_claims" default:"scope,scp"`
	// AllowedClientIDs: the token's client_id (else azp) must be one of them; empty allows any.
	AllowedClientIDs []string `json:"allowed_client_ids" default:""`
	// TokenQueryParam also accepts the token in this query parameter (RFC 6750 §2.3; discouraged); empty is off.
	TokenQueryParam string `json:"token_query_param" default:"" len_min:"0"`
	// TokenCookie also accepts the token in this cookie; empty is off.
	TokenCookie string `json:"token_cookie" default:"" len_min:"0"`
	// TokenMode is "jwt" (local validation only), "introspection" (RFC 7662 only) or "auto" (a JWT-shaped token is validated locally when keys are configured, anything else is introspected).
	TokenMode *string `json:"token_mode" required:"true" default:"auto" one_of:"jwt,introspection,auto"`
	// JWKSMinRefreshSeconds is the least time between two key set fetches, so a flood of unknown kids cannot hammer the provider.
	JWKSMinRefreshSeconds *int `json:"jwks_min_refresh_seconds" default:"10" between:"0,2147483647"`
	// JWKSCacheTTLSeconds is how long fetched keys (and the discovery document) are used before a refresh.
	JWKSCacheTTLSeconds *int `json:"jwks_cache_ttl_seconds" default:"3600" between:"1,2147483647"`
	// IntrospectionEndpoint is the RFC 7662 endpoint; empty takes introspection_endpoint from discovery.
	IntrospectionEndpoint string `json:"introspection_endpoint" default:"" len_min:"0" match_any:"^$|^https?://[^/]" match_err:"must be an absolute http(s) URL"`
	// IntrospectionClientID is the gateway's own client id at the introspection endpoint.
	IntrospectionClientID string `json:"introspection_client_id" default:"" len_min:"0"`
	// IntrospectionClientSecret is the gateway's own client secret (never logged).
	IntrospectionClientSecret string `json:"introspection_client_secret" default:"" len_min:"0" referenceable:"true"`
	// IntrospectionAuthMethod is client_secret_basic, client_secret_post or none.
	IntrospectionAuthMethod *string `json:"introspection_auth_method" default:"client_secret_basic" one_of:"client_secret_basic,client_secret_post,none"`
	// TokenTypeHint is sent with each introspection request; empty sends none.
	TokenTypeHint *string `json:"token_type_hint" default:"access_token" len_min:"0"`
	// IntrospectionCacheTTLSeconds caps how long after it was fetched an active answer is reused by this route (never beyond the token's exp, RFC 7662 §4); 0 never reuses one.
	IntrospectionCacheTTLSeconds *int `json:"introspection_cache_ttl_seconds" default:"300" between:"0,2147483647"`
	// IntrospectionNegativeTTLSeconds is how long after it was fetched an inactive answer is reused by this route; 0 never reuses one.
	IntrospectionNegativeTTLSeconds *int `json:"introspection_negative_ttl_seconds" default:"10" between:"0,2147483647"`
	// HTTPTimeoutMS bounds each request to the provider (discovery, JWKS, introspection).
	HTTPTimeoutMS *int `json:"http_timeout_ms" default:"3000" between:"1,2147483647"`
	// ConsumerClaim names the claim (e.g. sub or client_id) whose value is the Kong consumer; empty maps no consumer.
	ConsumerClaim string `json:"consumer_claim" default:"" len_min:"0"`
	// ConsumerBy is "username" (Kong consumer id or username) or "custom_id" (Kong's PDK has no lookup by custom_id: the request is authenticated as a consumer entity carrying only that custom_id).
	ConsumerBy *string `json:"consumer_by" default:"username" one_of:"username,custom_id"`
	// ConsumerOptional accepts a valid token whose consumer does not exist in Kong (or that lacks the claim), without a consumer.
	ConsumerOptional bool `json:"consumer_optional" default:"false"`
	// Anonymous is the consumer (username or id) to use when a token is missing or invalid; provider failures are refused regardless.
	Anonymous string `json:"anonymous" default:"" len_min:"0"`
	// HideCredentials removes the token (header, query parameter or cookie) before proxying.
	HideCredentials bool `json:"hide_credentials" default:"false"`
	// ClaimsToHeaders maps claim names to upstream request headers (scalars as text, arrays joined by spaces); headers of absent claims, and of claims with a control character, are removed. Host, framing (Content-Length, Transfer-Encoding…) and identity headers (Authorization, X-Consumer-*…) are refused as targets.
	ClaimsToHeaders map[string]string `json:"claims_to_headers" default:"" value_match_none:"[ :\r\n]" value_match_err:"must be a header name (no space, colon, CR or LF)"`
	// RunOnPreflight authenticates CORS preflight (OPTIONS) requests too.
	RunOnPreflight *bool `json:"run_on_preflight" default:"true"`
	// Realm is sent in `WWW-Authenticate: Bearer realm="…"`.
	Realm string `json:"realm" default:"" len_min:"0"`
	// ProofOfPossessionDPoP checks DPoP-bound tokens (RFC 9449): "off", "optional" (tokens bound to a key, cnf.jkt, must come as `Authorization: DPoP` with a valid proof; unbound bearer tokens still pass) or "strict" (every token must be DPoP-bound and proven).
	ProofOfPossessionDPoP *string `json:"proof_of_possession_dpop" default:"off" one_of:"off,optional,strict"`
	// DPoPProofLifetime is how many seconds after its iat a DPoP proof is accepted (plus leeway_seconds) and how often nonces rotate; a spent jti is remembered for the largest such window of the plugin process's configs.
	DPoPProofLifetime *int `json:"dpop_proof_lifetime" default:"300" between:"1,2147483647"`
	// DPoPUseNonce requires DPoP proofs to carry a nonce issued by the gateway (RFC 9449 §8, §9): a proof without one, or with a stale one, is answered 401 use_dpop_nonce with a DPoP-Nonce header.
	DPoPUseNonce bool `json:"dpop_use_nonce" default:"false"`
	// DPoPAllowedAlgs lists the JWS algorithms accepted for DPoP proofs (asymmetric only: none and HMAC are refused). Default: the asymmetric entries of allowed_algorithms.
	DPoPAllowedAlgs []string `json:"dpop_allowed_algs"`
	// ProofOfPossessionMTLS checks certificate-bound tokens (RFC 8705 §3): "off", "optional" (a token with cnf.x5t#S256 must come over a TLS connection with that client certificate) or "strict" (every token must be certificate-bound). Needs Kong's HTTPS listener to pass the certificate on (README, Certificate-bound tokens).
	ProofOfPossessionMTLS *string `json:"proof_of_possession_mtls" default:"off" one_of:"off,optional,strict"`
	// LogLevel is the Kong log level of client refusals (debug, info, notice, warn, err, crit, alert); provider and gateway failures are always logged at err.
	LogLevel *string `json:"log_level" default:"notice" one_of:"debug,info,notice,warn,err,crit,alert"`
	// Policy is where introspection answers are shared: "local" (each plugin process caches its own) or "redis" (one introspection per token for every gateway node sharing the Redis and key_prefix; a revocation one node sees reaches the others).
	Policy *string `json:"policy" required:"true" default:"local" one_of:"local,redis"`
	// Redis is the Redis used with policy redis. Default: {} (unused with policy local).
	Redis redisstore.Config `json:"redis"`
	// FaultTolerant decides what happens when Redis fails or times out: true continues with the process-local cache and logs one warn line per outage (REDIS_UNAVAILABLE, outcome accepted); false refuses with 503 REDIS_UNAVAILABLE.
	FaultTolerant *bool `json:"fault_tolerant" default:"true"`
}

// String renders the config without the introspection secret.
func (c *Config) String() string {
	cp := *c
	if cp.IntrospectionClientSecret != "" {
		cp.IntrospectionClientSecret = "[redacted]"
	}
	if cp.Redis.Password != "" {
		cp.Redis.Password = "[redacted]"
	}
	b, _ := json.Marshal(&cp)
	return string(b)
}
