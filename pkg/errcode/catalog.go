package errcode

// The codes. Grouped by plugin family; the catalog map below is the source
// of docs/error-codes.md (go generate ./pkg/errcode).
const (
	// Bearer token requests (authkit-oauth).
	TokenMissing        Code = "OAUTH_TOKEN_MISSING"
	RequestInvalid      Code = "OAUTH_REQUEST_INVALID"
	TokenMalformed      Code = "OAUTH_TOKEN_MALFORMED"
	TokenExpired        Code = "OAUTH_TOKEN_EXPIRED"
	TokenNotYetValid    Code = "OAUTH_TOKEN_NOT_YET_VALID"
	TokenTooOld         Code = "OAUTH_TOKEN_TOO_OLD"
	TokenInactive       Code = "OAUTH_TOKEN_INACTIVE"
	SignatureInvalid    Code = "OAUTH_SIGNATURE_INVALID"
	AlgorithmNotAllowed Code = "OAUTH_ALGORITHM_NOT_ALLOWED"
	KeyNotFound         Code = "OAUTH_KEY_NOT_FOUND"
	TokenTypeInvalid    Code = "OAUTH_TOKEN_TYPE_INVALID"
	IssuerMismatch      Code = "OAUTH_ISSUER_MISMATCH"
	AudienceMismatch    Code = "OAUTH_AUDIENCE_MISMATCH"
	ClientNotAllowed    Code = "OAUTH_CLIENT_NOT_ALLOWED"
	InsufficientScope   Code = "OAUTH_INSUFFICIENT_SCOPE"
	ClaimMismatch       Code = "OAUTH_CLAIM_MISMATCH"

	// The OAuth provider (JWKS, discovery, introspection, token endpoint).
	ProviderUnreachable    Code = "OAUTH_PROVIDER_UNREACHABLE"
	ProviderTimeout        Code = "OAUTH_PROVIDER_TIMEOUT"
	ProviderError          Code = "OAUTH_PROVIDER_ERROR"
	ProviderInvalidResp    Code = "OAUTH_PROVIDER_INVALID_RESPONSE"
	ProviderClientAuthFail Code = "OAUTH_PROVIDER_CLIENT_AUTH_FAILED"

	// Token-endpoint explanations (authkit-oauth-explain), RFC 6749 §5.2.
	RedirectURIMismatch  Code = "OAUTH_REDIRECT_URI_MISMATCH"
	InvalidGrant         Code = "OAUTH_INVALID_GRANT"
	InvalidScope         Code = "OAUTH_INVALID_SCOPE"
	UnauthorizedClient   Code = "OAUTH_UNAUTHORIZED_CLIENT"
	UnsupportedGrantType Code = "OAUTH_UNSUPPORTED_GRANT_TYPE"
	ClientAuthFailed     Code = "OAUTH_CLIENT_AUTH_FAILED"
	TokenRequestInvalid  Code = "OAUTH_TOKEN_REQUEST_INVALID"
	AccessDenied         Code = "OAUTH_ACCESS_DENIED"

	// API keys (authkit-key).
	APIKeyMissing   Code = "APIKEY_MISSING"
	APIKeyDuplicate Code = "APIKEY_DUPLICATE"
	APIKeyInvalid   Code = "APIKEY_INVALID"
	APIKeyExpired   Code = "APIKEY_EXPIRED"

	// HTTP Basic (authkit-basic).
	BasicMissing            Code = "BASIC_MISSING"
	BasicMalformed          Code = "BASIC_MALFORMED"
	BasicInvalidCredentials Code = "BASIC_INVALID_CREDENTIALS"
	BasicLockedOut          Code = "BASIC_LOCKED_OUT"

	// The gateway itself.
	ConfigInvalid    Code = "CONFIG_INVALID"
	ConsumerNotFound Code = "CONSUMER_NOT_FOUND"
	InternalError    Code = "INTERNAL_ERROR"
	RedisUnavailable Code = "REDIS_UNAVAILABLE"
)

// catalog is every code's entry, keyed by the code (Entry.Code is filled
// in from the key). Each entry names its fields, so a message, a cause and
// a hint cannot silently trade places; TestEveryCodeHasAnEntry fails when a
// Code constant above has none (it would refuse as INTERNAL_ERROR).
var catalog = withCodes(map[Code]Entry{
	// --- bearer tokens ---------------------------------------------------
	TokenMissing: {
		Status:  401,
		Message: "Authentication required: no bearer token was sent.",
		Cause:   "The request carried no `Authorization: Bearer` token (nor the configured query parameter or cookie), or only credentials of another scheme (e.g. `Authorization: Basic`; the log names the scheme).",
		Hint:    "Send the access token as `Authorization: Bearer <token>`. The challenge deliberately carries no error code.",
		Class:   ClassClient,
		Spec:    "RFC 6750 §3.1",
	},
	RequestInvalid: {
		Status:      400,
		BearerError: "invalid_request",
		Message:     "The request is malformed: send exactly one bearer token in the Authorization header.",
		Cause:       "Several tokens in one request (header plus query or cookie, two Authorization headers, or another scheme's credentials next to a query or cookie token), or a malformed Bearer header (no token, several words, characters outside RFC 6750's b64token).",
		Hint:        "Send one token by one method only. Check proxies or SDKs that add a second Authorization header.",
		Class:       ClassClient,
		Spec:        "RFC 6750 §2, §3.1",
	},
	TokenMalformed: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is malformed.",
		Cause:       "The token is not a JWT where one is required, has bad base64url or JSON, or exceeds the size limit.",
		Hint:        "Make sure the client sends the access token (not the ID token or a refresh token) unmodified.",
		Class:       ClassClient,
		Spec:        "RFC 7519 §7.2",
	},
	TokenExpired: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token has expired.",
		Cause:       "`exp` is in the past (after the configured leeway), or introspection reported an expired token.",
		Hint:        "The client must refresh or request a new token. If tokens expire early, check the gateway's clock (NTP) and `leeway_seconds`.",
		Class:       ClassClient,
		Spec:        "RFC 7519 §4.1.4",
	},
	TokenNotYetValid: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is not valid yet.",
		Cause:       "`nbf` or `iat` lies in the future beyond the leeway.",
		Hint:        "Check the clocks of the provider and the gateway (NTP); raise `leeway_seconds` only for known skew.",
		Class:       ClassClient,
		Spec:        "RFC 7519 §4.1.5",
	},
	TokenTooOld: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is too old.",
		Cause:       "`iat` is older than `max_token_age_seconds`.",
		Hint:        "Request a fresh token, or raise `max_token_age_seconds` if the provider issues long-lived tokens on purpose.",
		Class:       ClassClient,
		Spec:        "RFC 7519 §4.1.6",
	},
	TokenInactive: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is not active.",
		Cause:       "The introspection endpoint answered `active: false`: the token is unknown, revoked, expired or not for this gateway.",
		Hint:        "Request a new token. If valid tokens are reported inactive, check that the gateway introspects at the provider that issued them.",
		Class:       ClassClient,
		Spec:        "RFC 7662 §2.2",
	},
	SignatureInvalid: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token signature is invalid.",
		Cause:       "The signature does not verify with the provider's key: a tampered token, or one signed by another provider.",
		Hint:        "Check that the token was issued by the configured issuer; a token altered in transit must be rejected.",
		Class:       ClassClient,
		Spec:        "RFC 7515 §5.2",
	},
	AlgorithmNotAllowed: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token uses an algorithm that is not allowed.",
		Cause:       "`alg` is `none`, not in `allowed_algorithms`, or does not match the key's type or the JWK's `alg` (e.g. HS256 with an RSA key).",
		Hint:        "Configure `allowed_algorithms` with what the provider signs with; `none` and key-type mismatches are always refused.",
		Class:       ClassClient,
		Spec:        "RFC 8725 §3.1, §3.2",
	},
	KeyNotFound: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token was signed with an unknown key.",
		Cause:       "The token's `kid` is not in the provider's key set, even after a refresh.",
		Hint:        "Check that the token comes from the configured issuer. After a key rotation the new key must be published in the JWKS before tokens use it.",
		Class:       ClassClient,
		Spec:        "RFC 7517 §4.5",
	},
	TokenTypeInvalid: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The token is not an access token.",
		Cause:       "The token is of another kind: a refresh, ID or logout token. The introspection answer's `token_type` is not `Bearer` (e.g. `refresh_token`, or `DPoP` for a sender-constrained token while `proof_of_possession_dpop` is off), its `token_use` (Ory Hydra/fosite) is not `access_token` (Hydra answers `active: true` for refresh tokens), a `token_use` or Keycloak `typ` claim names another token, or the JWT `typ` is not `at+jwt` while `require_typ_at_jwt` is on.",
		Hint:        "Send the access token, not the refresh or ID token; the log names the member and its value. Turn `require_typ_at_jwt` off only if the provider does not type its JWTs.",
		Class:       ClassClient,
		Spec:        "RFC 7662 §2.2; RFC 6749 §1.5, §7.1; RFC 9068 §2.1, §4; RFC 8725 §3.11",
	},
	IssuerMismatch: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token was issued by an untrusted issuer.",
		Cause:       "`iss` is not one of `allowed_issuers` (exact string match).",
		Hint:        "Compare the token's `iss` with the configured issuer character by character (trailing slash, http vs https, realm path).",
		Class:       ClassClient,
		Spec:        "RFC 9068 §4; RFC 8725 §3.8",
	},
	AudienceMismatch: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is not intended for this API.",
		Cause:       "`aud` contains none of the configured `audiences`.",
		Hint:        "Request the token with the right audience/resource parameter at the provider, or add the API's identifier to `audiences`.",
		Class:       ClassClient,
		Spec:        "RFC 9068 §4; RFC 8725 §3.9",
	},
	ClientNotAllowed: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token was issued to a client that is not allowed here.",
		Cause:       "`client_id` (or `azp`) is not in `allowed_client_ids`: a mismatched client id.",
		Hint:        "Check which client id the caller uses; add it to `allowed_client_ids` if it should have access.",
		Class:       ClassClient,
		Spec:        "RFC 9068 §2.2",
	},
	InsufficientScope: {
		Status:      403,
		BearerError: "insufficient_scope",
		Message:     "The access token does not carry the required scope.",
		Cause:       "The token lacks the scopes in `required_scopes` (improper scopes were requested or granted).",
		Hint:        "Request the token with the scopes named in the challenge's `scope` parameter, and make sure the provider allows the client those scopes.",
		Class:       ClassClient,
		Spec:        "RFC 6750 §3.1",
	},
	ClaimMismatch: {
		Status:      403,
		BearerError: "insufficient_scope",
		Message:     "The access token lacks a required claim value.",
		Cause:       "A claim required by the configuration is missing or has another value, or the `consumer_claim` has a control character (it cannot be sent in X-Consumer-* headers unchanged).",
		Hint:        "Check the required claims in the plugin config against what the provider puts in the token.",
		Class:       ClassClient,
		Spec:        "RFC 6750 §3.1",
	},
	// --- the provider ----------------------------------------------------
	ProviderUnreachable: {
		Status:  503,
		Message: "The authorization server cannot be reached.",
		Cause:   "Connection refused, DNS failure or TLS failure when contacting the provider (discovery, JWKS or introspection).",
		Hint:    "Check network paths, DNS and TLS from the gateway to the provider; the plugin retries on the next request.",
		Class:   ClassProvider,
	},
	ProviderTimeout: {
		Status:  504,
		Message: "The authorization server did not answer in time.",
		Cause:   "The provider did not answer within `http_timeout_ms`.",
		Hint:    "Check the provider's health and latency; raise `http_timeout_ms` only if the provider is known to be slow.",
		Class:   ClassProvider,
	},
	ProviderError: {
		Status:  502,
		Message: "The authorization server failed.",
		Cause:   "The provider answered with a 5xx status.",
		Hint:    "Look at the provider's own logs; the gateway's log line carries the status and an excerpt of the body.",
		Class:   ClassProvider,
	},
	ProviderInvalidResp: {
		Status:  502,
		Message: "An invalid OAuth response was received.",
		Cause:   "The provider answered something that is not valid OAuth: not JSON, the wrong content type, a missing or non-boolean `active`, a malformed JWKS or discovery document, or an issuer that does not match.",
		Hint:    "The log line says which field or header is wrong. Check that the configured URL is the provider's real endpoint (not a login page or a proxy's error page).",
		Class:   ClassProvider,
		Spec:    "RFC 7662 §2.2; RFC 8414 §3.2; RFC 6749 §5.1",
	},
	ProviderClientAuthFail: {
		Status:  500,
		Message: "The gateway could not authenticate to the authorization server.",
		Cause:   "The provider refused the gateway's own client credentials (`invalid_client`) at the introspection endpoint.",
		Hint:    "Check `introspection_client_id` and `introspection_client_secret` (and `introspection_auth_method`) against the client registered at the provider.",
		Class:   ClassGateway,
		Spec:    "RFC 7662 §2.1; RFC 6749 §5.2",
	},
	// --- token endpoint explanations (RFC 6749 §5.2) ---------------------
	RedirectURIMismatch: {
		Status:      400,
		BearerError: "invalid_grant",
		Message:     "The redirect URI does not match the one registered for the client.",
		Cause:       "The `redirect_uri` of the request is not registered for the client, or differs from the one used in the authorization request.",
		Hint:        "Verify the redirect URI registered at the provider: it must match exactly (scheme, host, port, path, trailing slash).",
		Class:       ClassClient,
		Spec:        "RFC 6749 §4.1.3, §5.2; RFC 9700 §4.1.3",
	},
	InvalidGrant: {
		Status:      400,
		BearerError: "invalid_grant",
		Message:     "The authorization grant is invalid, expired or already used.",
		Cause:       "The authorization code or refresh token is invalid, expired, revoked, already used, or was issued to another client.",
		Hint:        "Exchange each code once and promptly; check the client's clock and that it uses the code with the client it was issued to.",
		Class:       ClassClient,
		Spec:        "RFC 6749 §5.2",
	},
	InvalidScope: {
		Status:      400,
		BearerError: "invalid_scope",
		Message:     "The requested scope is invalid or not allowed for this client.",
		Cause:       "The client asked for scopes that are unknown or that it is not allowed to request (improper scopes).",
		Hint:        "Check the scopes the client requests against those allowed for it at the provider.",
		Class:       ClassClient,
		Spec:        "RFC 6749 §5.2",
	},
	UnauthorizedClient: {
		Status:      400,
		BearerError: "unauthorized_client",
		Message:     "The client is not allowed to use this grant type.",
		Cause:       "The client is registered but not for this grant type.",
		Hint:        "Enable the grant type for the client at the provider, or use a grant it is allowed.",
		Class:       ClassClient,
		Spec:        "RFC 6749 §5.2",
	},
	UnsupportedGrantType: {
		Status:      400,
		BearerError: "unsupported_grant_type",
		Message:     "The grant type is not supported.",
		Cause:       "The provider does not support the requested `grant_type`, or the gateway's `allowed_grant_types` excludes it.",
		Hint:        "Use a grant type the provider supports (e.g. `authorization_code`, `client_credentials`).",
		Class:       ClassClient,
		Spec:        "RFC 6749 §5.2",
	},
	ClientAuthFailed: {
		Status:      401,
		BearerError: "invalid_client",
		Message:     "Client authentication failed.",
		Cause:       "Wrong client id or secret, an unknown client, or an unsupported client authentication method.",
		Hint:        "Check the client id and secret, and the authentication method (Basic header vs form body) registered at the provider.",
		Class:       ClassClient,
		Spec:        "RFC 6749 §2.3.1, §5.2",
	},
	TokenRequestInvalid: {
		Status:      400,
		BearerError: "invalid_request",
		Message:     "The token or authorization request is malformed.",
		Cause:       "A required parameter is missing, repeated, or unsupported (e.g. no `grant_type`, two `client_id`s, credentials in both header and body), or, with `enforce`, the gateway cannot parse the request as the provider would: a body that is not form-urlencoded (multipart, JSON), a bad `%` escape or a `;`, undecodable Basic client credentials, token parameters in the query, a body larger than 1 MiB or spooled to a file the plugin cannot open.",
		Hint:        "Fix the client's request; the log names the parameter or the reason the request could not be parsed. Send token requests as `application/x-www-form-urlencoded` POST bodies.",
		Class:       ClassClient,
		Spec:        "RFC 6749 §5.2, §4.1.2.1",
	},
	AccessDenied: {
		Status:      403,
		BearerError: "access_denied",
		Message:     "The resource owner or the provider denied the request.",
		Cause:       "The user declined consent, or the provider's policy refused the request.",
		Hint:        "Nothing to fix at the gateway; the user has to consent or the provider's policy has to allow it.",
		Class:       ClassClient,
		Spec:        "RFC 6749 §4.1.2.1",
	},
	// --- API keys ---------------------------------------------------------
	APIKeyMissing: {
		Status:  401,
		Message: "No API key found in request.",
		Cause:   "No configured key name was found in the header, query or body.",
		Hint:    "Send the key in one of `key_names` (header or query by default).",
		Class:   ClassClient,
	},
	APIKeyDuplicate: {
		Status:  401,
		Message: "Duplicate API key found.",
		Cause:   "The same key name was given more than once: two headers, header and query, twice in the query, or twice in a form or JSON body (JSON names compared case-insensitively). An occurrence that cannot be decoded (bad `%` escape, `;`, a non-string JSON member, a JSON body that does not parse but names the key) counts too.",
		Hint:    "Send the key once.",
		Class:   ClassClient,
	},
	APIKeyInvalid: {
		Status:  401,
		Message: "Invalid authentication credentials.",
		Cause:   "The key does not match any configured credential, or the key name's only value cannot be a key (a JSON member that is not a string, a JSON body that does not parse).",
		Hint:    "Check that the client uses a current key; the log carries the key's fingerprint to compare with `authkit hash key`.",
		Class:   ClassClient,
	},
	APIKeyExpired: {
		Status:  401,
		Message: "The API key has expired.",
		Cause:   "The key matched a credential whose `expires_at` has passed.",
		Hint:    "Issue a new key (`authkit hash key`) and give it to the client; the log names the credential id.",
		Class:   ClassClient,
	},
	// --- HTTP Basic -------------------------------------------------------
	BasicMissing: {
		Status:  401,
		Message: "Authentication required.",
		Cause:   "No `Authorization: Basic` (or `Proxy-Authorization`) header was sent.",
		Hint:    "Send the credentials with the Basic scheme.",
		Class:   ClassClient,
		Spec:    "RFC 7617 §2",
	},
	BasicMalformed: {
		Status:  400,
		Message: "The Basic credentials are malformed.",
		Cause:   "The header is not valid base64, has no colon, has an empty user id, or is not UTF-8.",
		Hint:    "Encode `user-id:password` in UTF-8, then base64 (RFC 7617 §2); the user id must not contain a colon.",
		Class:   ClassClient,
		Spec:    "RFC 7617 §2, §2.1",
	},
	BasicInvalidCredentials: {
		Status:  401,
		Message: "Invalid authentication credentials.",
		Cause:   "The user is unknown or the password is wrong (the two are indistinguishable on purpose).",
		Hint:    "Check the user name and password; the log carries the user name's fingerprint.",
		Class:   ClassClient,
	},
	BasicLockedOut: {
		Status:  429,
		Message: "Too many failed attempts; try again later.",
		Cause:   "`max_failures` wrong passwords for this user from this client IP within `lockout_seconds`, or, for at most a second, that many attempts of the pair still being verified (in-flight attempts count against the limit).",
		Hint:    "Wait for the Retry-After delay; if it is an attack, block the client IP upstream of the gateway.",
		Class:   ClassClient,
	},
	// --- the gateway --------------------------------------------------------
	ConfigInvalid: {
		Status:  500,
		Message: "The gateway is misconfigured.",
		Cause:   "The plugin's configuration cannot be compiled (a bad URL, hash, JWKS, algorithm, or an unreadable credentials file). With `\"outcome\":\"accepted\"` at warn it is a warning, not a refusal: the config works but weakens a guarantee (Basic users whose hashes differ in scheme or cost can be told from unknown users by timing). Every request on the route is refused, but error.log gets the refusal's line at most once per 10 s per config and route, with `\"count\"`: the requests refused since the previous line (`authkit logs` adds them up; the metric and the file-log value are per request).",
		Hint:    "The log line names the field and the reason; run `authkit check kong.yaml` to find every problem offline. For the hash warning, rehash every user with one scheme and cost (`authkit hash password`).",
		Class:   ClassGateway,
	},
	ConsumerNotFound: {
		Status:  500,
		Message: "The gateway is misconfigured.",
		Cause:   "A consumer that a credential maps to (or the `anonymous` consumer) does not exist in Kong.",
		Hint:    "Create the consumer in Kong (kong.yaml `consumers:`) or fix the mapping; the log names it.",
		Class:   ClassGateway,
	},
	InternalError: {
		Status:  500,
		Message: "An unexpected error occurred.",
		Cause:   "A bug in the plugin (a recovered panic), an unexpected gateway failure, or request data Kong could not hand over to the plugin: a header value that is not UTF-8 (go-pdk cannot decode it), a spooled request body the plugin process cannot open.",
		Hint:    "If the log says the headers or the body were unreadable, find the client sending non-UTF-8 header bytes, or run the plugin server where it can read Kong's client_body_temp files. Otherwise report it with the log line; the plugin process kept running.",
		Class:   ClassGateway,
	}, RedisUnavailable: {
		Status:  503,
		Message: "The service is temporarily unavailable.",
		Cause:   "The Redis that holds the cluster-wide state (`policy: redis`: lockout counters, shared introspection answers) refused, failed or did not answer within `redis.timeout_ms`: it is down or paused, the address, password or `password_env` is wrong (Kong passes no environment variable to a plugin process unless `KONG_NGINX_MAIN_ENV` names it), TLS is set against a plain port, or the ACL forbids a command or key. With `fault_tolerant: true` the plugin logs this once per outage at warn with `\"outcome\":\"accepted\"` and continues with process-local state; with `fault_tolerant: false` every request that needs Redis is refused with 503.",
		Hint:    "Run `authkit probe --redis-host …` (or the sentinel/cluster flags) from the gateway host: it names the failing step (connect, TLS, auth, ACL). Check that Redis answers within `timeout_ms`; the plugin retries Redis at most once a second while it is down and goes back to it by itself.",
		Class:   ClassGateway,
	},
})

func withCodes(m map[Code]Entry) map[Code]Entry {
	for c, e := range m {
		e.Code = c
		m[c] = e
	}
	return m
}
