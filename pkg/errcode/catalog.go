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
)

var catalog = map[Code]Entry{}

func add(e Entry) {
	if _, dup := catalog[e.Code]; dup {
		panic("errcode: duplicate " + string(e.Code))
	}
	catalog[e.Code] = e
}

func init() {
	// --- bearer tokens ---------------------------------------------------
	add(Entry{TokenMissing, 401, "", "Authentication required: no bearer token was sent.",
		"The request carried no `Authorization: Bearer` token (nor the configured query parameter or cookie), or only credentials of another scheme (e.g. `Authorization: Basic`; the log names the scheme).",
		"Send the access token as `Authorization: Bearer <token>`. The challenge deliberately carries no error code.",
		ClassClient, "RFC 6750 §3.1"})
	add(Entry{RequestInvalid, 400, "invalid_request", "The request is malformed: send exactly one bearer token in the Authorization header.",
		"Several tokens in one request (header plus query or cookie, two Authorization headers, or another scheme's credentials next to a query or cookie token), or a malformed Bearer header (no token, several words, characters outside RFC 6750's b64token).",
		"Send one token by one method only. Check proxies or SDKs that add a second Authorization header.",
		ClassClient, "RFC 6750 §2, §3.1"})
	add(Entry{TokenMalformed, 401, "invalid_token", "The access token is malformed.",
		"The token is not a JWT where one is required, has bad base64url or JSON, or exceeds the size limit.",
		"Make sure the client sends the access token (not the ID token or a refresh token) unmodified.",
		ClassClient, "RFC 7519 §7.2"})
	add(Entry{TokenExpired, 401, "invalid_token", "The access token has expired.",
		"`exp` is in the past (after the configured leeway), or introspection reported an expired token.",
		"The client must refresh or request a new token. If tokens expire early, check the gateway's clock (NTP) and `leeway_seconds`.",
		ClassClient, "RFC 7519 §4.1.4"})
	add(Entry{TokenNotYetValid, 401, "invalid_token", "The access token is not valid yet.",
		"`nbf` or `iat` lies in the future beyond the leeway.",
		"Check the clocks of the provider and the gateway (NTP); raise `leeway_seconds` only for known skew.",
		ClassClient, "RFC 7519 §4.1.5"})
	add(Entry{TokenTooOld, 401, "invalid_token", "The access token is too old.",
		"`iat` is older than `max_token_age_seconds`.",
		"Request a fresh token, or raise `max_token_age_seconds` if the provider issues long-lived tokens on purpose.",
		ClassClient, "RFC 7519 §4.1.6"})
	add(Entry{TokenInactive, 401, "invalid_token", "The access token is not active.",
		"The introspection endpoint answered `active: false`: the token is unknown, revoked, expired or not for this gateway.",
		"Request a new token. If valid tokens are reported inactive, check that the gateway introspects at the provider that issued them.",
		ClassClient, "RFC 7662 §2.2"})
	add(Entry{SignatureInvalid, 401, "invalid_token", "The access token signature is invalid.",
		"The signature does not verify with the provider's key: a tampered token, or one signed by another provider.",
		"Check that the token was issued by the configured issuer; a token altered in transit must be rejected.",
		ClassClient, "RFC 7515 §5.2"})
	add(Entry{AlgorithmNotAllowed, 401, "invalid_token", "The access token uses an algorithm that is not allowed.",
		"`alg` is `none`, not in `allowed_algorithms`, or does not match the key's type or the JWK's `alg` (e.g. HS256 with an RSA key).",
		"Configure `allowed_algorithms` with what the provider signs with; `none` and key-type mismatches are always refused.",
		ClassClient, "RFC 8725 §3.1, §3.2"})
	add(Entry{KeyNotFound, 401, "invalid_token", "The access token was signed with an unknown key.",
		"The token's `kid` is not in the provider's key set, even after a refresh.",
		"Check that the token comes from the configured issuer. After a key rotation the new key must be published in the JWKS before tokens use it.",
		ClassClient, "RFC 7517 §4.5"})
	add(Entry{TokenTypeInvalid, 401, "invalid_token", "The token is not an access token.",
		"The token is of another kind: a refresh, ID or logout token. The introspection answer's `token_type` is not `Bearer` (e.g. `refresh_token`, or `DPoP` for a sender-constrained token while `proof_of_possession_dpop` is off), its `token_use` (Ory Hydra/fosite) is not `access_token` (Hydra answers `active: true` for refresh tokens), a `token_use` or Keycloak `typ` claim names another token, or the JWT `typ` is not `at+jwt` while `require_typ_at_jwt` is on.",
		"Send the access token, not the refresh or ID token; the log names the member and its value. Turn `require_typ_at_jwt` off only if the provider does not type its JWTs.",
		ClassClient, "RFC 7662 §2.2; RFC 6749 §1.5, §7.1; RFC 9068 §2.1, §4; RFC 8725 §3.11"})
	add(Entry{IssuerMismatch, 401, "invalid_token", "The access token was issued by an untrusted issuer.",
		"`iss` is not one of `allowed_issuers` (exact string match).",
		"Compare the token's `iss` with the configured issuer character by character (trailing slash, http vs https, realm path).",
		ClassClient, "RFC 9068 §4; RFC 8725 §3.8"})
	add(Entry{AudienceMismatch, 401, "invalid_token", "The access token is not intended for this API.",
		"`aud` contains none of the configured `audiences`.",
		"Request the token with the right audience/resource parameter at the provider, or add the API's identifier to `audiences`.",
		ClassClient, "RFC 9068 §4; RFC 8725 §3.9"})
	add(Entry{ClientNotAllowed, 401, "invalid_token", "The access token was issued to a client that is not allowed here.",
		"`client_id` (or `azp`) is not in `allowed_client_ids`: a mismatched client id.",
		"Check which client id the caller uses; add it to `allowed_client_ids` if it should have access.",
		ClassClient, "RFC 9068 §2.2"})
	add(Entry{InsufficientScope, 403, "insufficient_scope", "The access token does not carry the required scope.",
		"The token lacks the scopes in `required_scopes` (improper scopes were requested or granted).",
		"Request the token with the scopes named in the challenge's `scope` parameter, and make sure the provider allows the client those scopes.",
		ClassClient, "RFC 6750 §3.1"})
	add(Entry{ClaimMismatch, 403, "insufficient_scope", "The access token lacks a required claim value.",
		"A claim required by the configuration is missing or has another value, or the `consumer_claim` has a control character (it cannot be sent in X-Consumer-* headers unchanged).",
		"Check the required claims in the plugin config against what the provider puts in the token.",
		ClassClient, "RFC 6750 §3.1"})

	// --- the provider ----------------------------------------------------
	add(Entry{ProviderUnreachable, 503, "", "The authorization server cannot be reached.",
		"Connection refused, DNS failure or TLS failure when contacting the provider (discovery, JWKS or introspection).",
		"Check network paths, DNS and TLS from the gateway to the provider; the plugin retries on the next request.",
		ClassProvider, ""})
	add(Entry{ProviderTimeout, 504, "", "The authorization server did not answer in time.",
		"The provider did not answer within `http_timeout_ms`.",
		"Check the provider's health and latency; raise `http_timeout_ms` only if the provider is known to be slow.",
		ClassProvider, ""})
	add(Entry{ProviderError, 502, "", "The authorization server failed.",
		"The provider answered with a 5xx status.",
		"Look at the provider's own logs; the gateway's log line carries the status and an excerpt of the body.",
		ClassProvider, ""})
	add(Entry{ProviderInvalidResp, 502, "", "An invalid OAuth response was received.",
		"The provider answered something that is not valid OAuth: not JSON, the wrong content type, a missing or non-boolean `active`, a malformed JWKS or discovery document, or an issuer that does not match.",
		"The log line says which field or header is wrong. Check that the configured URL is the provider's real endpoint (not a login page or a proxy's error page).",
		ClassProvider, "RFC 7662 §2.2; RFC 8414 §3.2; RFC 6749 §5.1"})
	add(Entry{ProviderClientAuthFail, 500, "", "The gateway could not authenticate to the authorization server.",
		"The provider refused the gateway's own client credentials (`invalid_client`) at the introspection endpoint.",
		"Check `introspection_client_id` and `introspection_client_secret` (and `introspection_auth_method`) against the client registered at the provider.",
		ClassGateway, "RFC 7662 §2.1; RFC 6749 §5.2"})

	// --- token endpoint explanations (RFC 6749 §5.2) ---------------------
	add(Entry{RedirectURIMismatch, 400, "invalid_grant", "The redirect URI does not match the one registered for the client.",
		"The `redirect_uri` of the request is not registered for the client, or differs from the one used in the authorization request.",
		"Verify the redirect URI registered at the provider: it must match exactly (scheme, host, port, path, trailing slash).",
		ClassClient, "RFC 6749 §4.1.3, §5.2; RFC 9700 §4.1.3"})
	add(Entry{InvalidGrant, 400, "invalid_grant", "The authorization grant is invalid, expired or already used.",
		"The authorization code or refresh token is invalid, expired, revoked, already used, or was issued to another client.",
		"Exchange each code once and promptly; check the client's clock and that it uses the code with the client it was issued to.",
		ClassClient, "RFC 6749 §5.2"})
	add(Entry{InvalidScope, 400, "invalid_scope", "The requested scope is invalid or not allowed for this client.",
		"The client asked for scopes that are unknown or that it is not allowed to request (improper scopes).",
		"Check the scopes the client requests against those allowed for it at the provider.",
		ClassClient, "RFC 6749 §5.2"})
	add(Entry{UnauthorizedClient, 400, "unauthorized_client", "The client is not allowed to use this grant type.",
		"The client is registered but not for this grant type.",
		"Enable the grant type for the client at the provider, or use a grant it is allowed.",
		ClassClient, "RFC 6749 §5.2"})
	add(Entry{UnsupportedGrantType, 400, "unsupported_grant_type", "The grant type is not supported.",
		"The provider does not support the requested `grant_type`, or the gateway's `allowed_grant_types` excludes it.",
		"Use a grant type the provider supports (e.g. `authorization_code`, `client_credentials`).",
		ClassClient, "RFC 6749 §5.2"})
	add(Entry{ClientAuthFailed, 401, "invalid_client", "Client authentication failed.",
		"Wrong client id or secret, an unknown client, or an unsupported client authentication method.",
		"Check the client id and secret, and the authentication method (Basic header vs form body) registered at the provider.",
		ClassClient, "RFC 6749 §2.3.1, §5.2"})
	add(Entry{TokenRequestInvalid, 400, "invalid_request", "The token or authorization request is malformed.",
		"A required parameter is missing, repeated, or unsupported (e.g. no `grant_type`, two `client_id`s, credentials in both header and body), or, with `enforce`, the gateway cannot parse the request as the provider would: a body that is not form-urlencoded (multipart, JSON), a bad `%` escape or a `;`, undecodable Basic client credentials, token parameters in the query, a body larger than 1 MiB or spooled to a file the plugin cannot open.",
		"Fix the client's request; the log names the parameter or the reason the request could not be parsed. Send token requests as `application/x-www-form-urlencoded` POST bodies.",
		ClassClient, "RFC 6749 §5.2, §4.1.2.1"})
	add(Entry{AccessDenied, 403, "access_denied", "The resource owner or the provider denied the request.",
		"The user declined consent, or the provider's policy refused the request.",
		"Nothing to fix at the gateway; the user has to consent or the provider's policy has to allow it.",
		ClassClient, "RFC 6749 §4.1.2.1"})

	// --- API keys ---------------------------------------------------------
	add(Entry{APIKeyMissing, 401, "", "No API key found in request.",
		"No configured key name was found in the header, query or body.",
		"Send the key in one of `key_names` (header or query by default).",
		ClassClient, ""})
	add(Entry{APIKeyDuplicate, 401, "", "Duplicate API key found.",
		"The same key name was given more than once: two headers, header and query, twice in the query, or twice in a form or JSON body (JSON names compared case-insensitively). An occurrence that cannot be decoded (bad `%` escape, `;`, a non-string JSON member, a JSON body that does not parse but names the key) counts too.",
		"Send the key once.",
		ClassClient, ""})
	add(Entry{APIKeyInvalid, 401, "", "Invalid authentication credentials.",
		"The key does not match any configured credential, or the key name's only value cannot be a key (a JSON member that is not a string, a JSON body that does not parse).",
		"Check that the client uses a current key; the log carries the key's fingerprint to compare with `authkit hash key`.",
		ClassClient, ""})
	add(Entry{APIKeyExpired, 401, "", "The API key has expired.",
		"The key matched a credential whose `expires_at` has passed.",
		"Issue a new key (`authkit hash key`) and give it to the client; the log names the credential id.",
		ClassClient, ""})

	// --- HTTP Basic -------------------------------------------------------
	add(Entry{BasicMissing, 401, "", "Authentication required.",
		"No `Authorization: Basic` (or `Proxy-Authorization`) header was sent.",
		"Send the credentials with the Basic scheme.",
		ClassClient, "RFC 7617 §2"})
	add(Entry{BasicMalformed, 400, "", "The Basic credentials are malformed.",
		"The header is not valid base64, has no colon, has an empty user id, or is not UTF-8.",
		"Encode `user-id:password` in UTF-8, then base64 (RFC 7617 §2); the user id must not contain a colon.",
		ClassClient, "RFC 7617 §2, §2.1"})
	add(Entry{BasicInvalidCredentials, 401, "", "Invalid authentication credentials.",
		"The user is unknown or the password is wrong (the two are indistinguishable on purpose).",
		"Check the user name and password; the log carries the user name's fingerprint.",
		ClassClient, ""})
	add(Entry{BasicLockedOut, 429, "", "Too many failed attempts; try again later.",
		"`max_failures` wrong passwords for this user from this client IP within `lockout_seconds`, or, for at most a second, that many attempts of the pair still being verified (in-flight attempts count against the limit).",
		"Wait for the Retry-After delay; if it is an attack, block the client IP upstream of the gateway.",
		ClassClient, ""})

	// --- the gateway --------------------------------------------------------
	add(Entry{ConfigInvalid, 500, "", "The gateway is misconfigured.",
		"The plugin's configuration cannot be compiled (a bad URL, hash, JWKS, algorithm, or an unreadable credentials file). With `\"outcome\":\"accepted\"` at warn it is a warning, not a refusal: the config works but weakens a guarantee (Basic users whose hashes differ in scheme or cost can be told from unknown users by timing).",
		"The log line names the field and the reason; run `authkit check kong.yaml` to find every problem offline. For the hash warning, rehash every user with one scheme and cost (`authkit hash password`).",
		ClassGateway, ""})
	add(Entry{ConsumerNotFound, 500, "", "The gateway is misconfigured.",
		"A consumer that a credential maps to (or the `anonymous` consumer) does not exist in Kong.",
		"Create the consumer in Kong (kong.yaml `consumers:`) or fix the mapping; the log names it.",
		ClassGateway, ""})
	add(Entry{InternalError, 500, "", "An unexpected error occurred.",
		"A bug in the plugin (a recovered panic), an unexpected gateway failure, or request data Kong could not hand over to the plugin: a header value that is not UTF-8 (go-pdk cannot decode it), a spooled request body the plugin process cannot open.",
		"If the log says the headers or the body were unreadable, find the client sending non-UTF-8 header bytes, or run the plugin server where it can read Kong's client_body_temp files. Otherwise report it with the log line; the plugin process kept running.",
		ClassGateway, ""})
}
