package errcode

// Sender-constrained tokens (authkit-oauth): DPoP (RFC 9449) and
// certificate-bound tokens (RFC 8705). Kept in their own file so that the
// proof-of-possession codes read as one group.
const (
	// DPoP, RFC 9449 §4.3 (one code per check) and §7.
	DPoPProofMissing      Code = "OAUTH_DPOP_PROOF_MISSING"
	DPoPProofMultiple     Code = "OAUTH_DPOP_PROOF_MULTIPLE"
	DPoPProofMalformed    Code = "OAUTH_DPOP_PROOF_MALFORMED"
	DPoPProofType         Code = "OAUTH_DPOP_PROOF_TYPE_INVALID"
	DPoPAlgorithm         Code = "OAUTH_DPOP_ALGORITHM_NOT_ALLOWED"
	DPoPKeyInvalid        Code = "OAUTH_DPOP_KEY_INVALID"
	DPoPSignatureInvalid  Code = "OAUTH_DPOP_SIGNATURE_INVALID"
	DPoPMethodMismatch    Code = "OAUTH_DPOP_HTM_MISMATCH"
	DPoPURIMismatch       Code = "OAUTH_DPOP_HTU_MISMATCH"
	DPoPProofExpired      Code = "OAUTH_DPOP_PROOF_EXPIRED"
	DPoPProofNotYetValid  Code = "OAUTH_DPOP_PROOF_NOT_YET_VALID"
	DPoPATHMismatch       Code = "OAUTH_DPOP_ATH_MISMATCH"
	DPoPReplayed          Code = "OAUTH_DPOP_PROOF_REPLAYED"
	DPoPNonceRequired     Code = "OAUTH_DPOP_NONCE_REQUIRED"
	DPoPNonceInvalid      Code = "OAUTH_DPOP_NONCE_INVALID"
	DPoPKeyMismatch       Code = "OAUTH_DPOP_KEY_MISMATCH"
	DPoPTokenNotBound     Code = "OAUTH_DPOP_TOKEN_NOT_BOUND"
	DPoPDowngrade         Code = "OAUTH_DPOP_DOWNGRADE"
	DPoPReplayStoreFailed Code = "OAUTH_DPOP_REPLAY_STORE_FAILED"
	DPoPReplayShareFull   Code = "OAUTH_DPOP_REPLAY_SHARE_FULL"

	// Certificate-bound access tokens, RFC 8705 §3.
	MTLSCertMissing   Code = "OAUTH_MTLS_CERT_MISSING"
	MTLSCertMismatch  Code = "OAUTH_MTLS_CERT_MISMATCH"
	MTLSTokenNotBound Code = "OAUTH_MTLS_TOKEN_NOT_BOUND"
)

// RFC 9449 §7.1 and §12.2: the error values of the DPoP challenge.
const (
	ErrInvalidDPoPProof = "invalid_dpop_proof"
	ErrUseDPoPNonce     = "use_dpop_nonce"
)

// popCatalog holds the entries of the codes above, keyed by code (Code is
// filled in from the key when they join the catalog).
var popCatalog = map[Code]Entry{
	// --- DPoP ---------------------------------------------------------------
	DPoPProofMissing: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "A DPoP proof is required.",
		Cause:       "The request used `Authorization: DPoP <token>` but carried no `DPoP` header (an empty one counts as none).",
		Hint:        "The client must send a fresh proof JWT in the `DPoP` header with every request that uses a DPoP-bound token; proofs are made per request (htm, htu, iat, jti, ath).",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.1, §4.3 (1), §7.1",
	},
	DPoPProofMultiple: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "Send exactly one DPoP proof.",
		Cause:       "The request carried more than one `DPoP` header (or a comma-joined list of proofs).",
		Hint:        "Send one `DPoP` header with one proof. Check proxies or SDKs that add a second one.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (1)",
	},
	DPoPProofMalformed: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof is malformed.",
		Cause:       "The `DPoP` header is not a compact JWS (three base64url segments, JSON header and payload, at most 8 KiB), has a `crit` header, or lacks or mistypes a required claim (`jti`, `htm`, `htu`, `iat`); the log names the part or claim.",
		Hint:        "Build the proof as RFC 9449 §4.2 describes: header `typ`, `alg`, `jwk`; claims `jti` (random, unique), `htm`, `htu`, `iat` (a JSON number), and `ath` when sending an access token.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.2, §4.3 (2), (3)",
	},
	DPoPProofType: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof has the wrong type.",
		Cause:       "The proof's JOSE header `typ` is not `dpop+jwt`: another JWT (an access or ID token) was sent as the proof.",
		Hint:        "Set `typ: dpop+jwt` in the proof's header (explicit typing keeps other JWTs from passing as proofs).",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.2, §4.3 (4); RFC 8725 §3.11",
	},
	DPoPAlgorithm: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof uses an algorithm that is not allowed.",
		Cause:       "The proof's `alg` is `none`, a MAC (HS256…), unknown, or not in `dpop_allowed_algs`. The challenge's `algs` lists what is accepted.",
		Hint:        "Sign proofs with an asymmetric algorithm from the challenge's `algs` (ES256 is the common choice), or add the client's algorithm to `dpop_allowed_algs`.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (5), §7.1",
	},
	DPoPKeyInvalid: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof key is invalid.",
		Cause:       "The proof's `jwk` header is missing, is not a JSON object, holds private key material (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, or a symmetric `k`), is of an unsupported type or curve, is a weak RSA key (under 2048 bits), or does not fit the `alg`.",
		Hint:        "Put only the public key in `jwk` (a leaked private key makes every proof forgeable: generate a new key pair). Use a key type that fits the algorithm (EC P-256 for ES256, RSA ≥ 2048 bits for RS256/PS256, Ed25519 for EdDSA).",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.2, §4.3 (6), (7); RFC 7517 §4",
	},
	DPoPSignatureInvalid: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof signature is invalid.",
		Cause:       "The proof's signature does not verify with the key in its own `jwk` header: the proof was altered after signing, or signed with another key.",
		Hint:        "Sign the proof with the private key whose public half is in `jwk`, and send it unmodified.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (6); RFC 7515 §5.2",
	},
	DPoPMethodMismatch: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof was made for another HTTP method.",
		Cause:       "The proof's `htm` differs from the request's method (compared exactly: `get` is not `GET`).",
		Hint:        "Make a new proof per request with `htm` set to the request's method in upper case.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (8)",
	},
	DPoPURIMismatch: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof was made for another URI.",
		Cause:       "The proof's `htu` differs from the URI the request was sent to (scheme, host, port or path; query and fragment are ignored) after RFC 3986 normalisation. Behind a load balancer, the URI is rebuilt from Kong's forwarded scheme, host and port, which Kong takes from `X-Forwarded-*` only when the load balancer's address is in `trusted_ips`; the path is the one Kong received.",
		Hint:        "Set `htu` to the URI the client sends the request to, without query and fragment. If the gateway sits behind a load balancer or TLS terminator, set Kong's `trusted_ips` (and `real_ip_header`) so that `X-Forwarded-Proto`, `-Host` and `-Port` are believed, and do not rewrite the path in front of Kong. The log shows both URIs.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (9); RFC 3986 §6.2.2, §6.2.3",
	},
	DPoPProofExpired: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof is too old.",
		Cause:       "The proof's `iat` is more than `dpop_proof_lifetime` seconds (plus the leeway) in the past: a stale or replayed proof, or a client clock running late.",
		Hint:        "Make a fresh proof for every request. If proofs are fresh, check the client's clock (NTP); raise `dpop_proof_lifetime` only for known delays.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (11), §11.1",
	},
	DPoPProofNotYetValid: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof is issued in the future.",
		Cause:       "The proof's `iat` lies further in the future than the leeway: the client's clock runs ahead.",
		Hint:        "Fix the client's clock (NTP), or raise `leeway_seconds` for known skew.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (11)",
	},
	DPoPATHMismatch: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof is not bound to this access token.",
		Cause:       "The proof has no `ath` claim, or its `ath` is not the base64url SHA-256 of the access token sent with it.",
		Hint:        "Set `ath` to base64url(SHA-256(access token)) without padding, computed over the exact token string in the Authorization header.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.2, §4.3 (12), §7",
	},
	DPoPReplayed: {
		Status:      401,
		BearerError: ErrInvalidDPoPProof,
		Message:     "The DPoP proof was already used.",
		Cause:       "A proof with the same `jti` and key was accepted before, within its lifetime: a replayed request, or a client reusing proofs.",
		Hint:        "Make a new proof (with a new random `jti`) for every request, retries included.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §4.3 (10), §11.1",
	},
	DPoPNonceRequired: {
		Status:      401,
		BearerError: ErrUseDPoPNonce,
		Message:     "A DPoP nonce is required.",
		Cause:       "`dpop_use_nonce` is on and the proof has no `nonce` claim. The answer's `DPoP-Nonce` header carries one.",
		Hint:        "Retry with a new proof whose `nonce` is the value of the `DPoP-Nonce` response header; keep using the latest nonce the gateway sent.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §8, §9",
	},
	DPoPNonceInvalid: {
		Status:      401,
		BearerError: ErrUseDPoPNonce,
		Message:     "The DPoP nonce is stale or invalid.",
		Cause:       "The proof's `nonce` was not issued here, or has been rotated out (nonces rotate every `dpop_proof_lifetime` seconds and stay valid through the next period). With `policy: local` nonces are per plugin process: a restart or another gateway node issues its own. With `policy: redis` every node sharing the Redis and `key_prefix` accepts every other's nonces (each period's secret is kept in Redis), except while Redis is down with `fault_tolerant: true`, when each node falls back to its own nonces.",
		Hint:        "Retry with the nonce from the answer's `DPoP-Nonce` header. Behind several gateway nodes with `policy: local`, expect one such retry when a client moves to another node; `policy: redis` removes it.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §8.2, §9",
	},
	DPoPKeyMismatch: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is bound to another key.",
		Cause:       "The token's `cnf.jkt` (JWT claim or introspection answer) is not the RFC 7638 SHA-256 thumbprint of the key that signed the proof: the token was stolen, or the client signs proofs with another key than the one it got the token with.",
		Hint:        "Sign proofs with the key the token was issued for; request a new token after rotating the client's DPoP key.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §6, §7.1; RFC 7638 §3",
	},
	DPoPTokenNotBound: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is not DPoP-bound.",
		Cause:       "The token has no `cnf.jkt` while `proof_of_possession_dpop` is `strict`, or was sent with the DPoP scheme although the provider issued it as a bearer token.",
		Hint:        "Request the token with a DPoP proof at the provider's token endpoint (RFC 9449 §5) so it is bound; a bearer token must be sent as `Authorization: Bearer`, and only where DPoP is not `strict`.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §6, §7.1",
	},
	DPoPDowngrade: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "A DPoP-bound access token must be sent with the DPoP scheme.",
		Cause:       "A token bound to a DPoP key (`cnf.jkt`, or `token_type: DPoP` from introspection) came as `Authorization: Bearer`, without proof: a stolen token replayed without the key, or a client that does not speak DPoP.",
		Hint:        "Send it as `Authorization: DPoP <token>` with a `DPoP` proof header.",
		Class:       ClassClient,
		Spec:        "RFC 9449 §7.2",
	},
	DPoPReplayStoreFailed: {
		Status:  503,
		Message: "The gateway cannot check DPoP proofs right now.",
		Cause:   "The store of seen proof ids (`jti`) could not record the proof: the process-wide cache is full (more fresh proofs within `dpop_proof_lifetime` than it holds) or the cluster store did not answer. Proofs are refused rather than accepted unchecked.",
		Hint:    "Lower `dpop_proof_lifetime` (a shorter window holds fewer proofs), spread the load over more gateway processes, or check the cluster store. The log says which.",
		Class:   ClassGateway,
		Spec:    "RFC 9449 §11.1",
	},
	DPoPReplayShareFull: {
		Status:  429,
		Message: "Too many DPoP proofs for this key; try again later.",
		Cause:   "The proof's key (the `jkt` field of the log line: the RFC 7638 thumbprint of the client's public key, not a secret) holds its share of the process's store of seen proof ids: 1/16 of it by default, 65,536 proofs spent within their lifetime. Each spent `jti` is kept until the proof could no longer be accepted, so a client that spends proofs faster than they expire fills its share; it is refused rather than let it fill the store every other client needs, and rather than forget a spent proof.",
		Hint:    "A client that is not misbehaving spends one proof per request; at this rate, look at the client that owns the key (the `jkt`), and revoke its token if it is an attack. Lowering `dpop_proof_lifetime` shortens how long each spent proof counts. Other keys are not affected.",
		Class:   ClassClient,
		Spec:    "RFC 9449 §11.1; RFC 6585 §4",
	},

	// --- certificate-bound tokens --------------------------------------------
	MTLSCertMissing: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "A client certificate is required for this access token.",
		Cause:       "The token is bound to a certificate (`cnf.x5t#S256`), or `proof_of_possession_mtls` is `strict`, but the TLS connection to Kong presented no client certificate, Kong did not pass it on (the `X-Client-Cert` header set by nginx), or it arrived over plain HTTP.",
		Hint:        "Connect with the client certificate the token was issued for. On the gateway: an HTTPS proxy listener with `nginx_proxy_ssl_verify_client = optional_no_ca` and `nginx_proxy_more_set_input_headers = \"X-Client-Cert: $ssl_client_escaped_cert\"` (README, Certificate-bound tokens).",
		Class:       ClassClient,
		Spec:        "RFC 8705 §3, §3.1",
	},
	MTLSCertMismatch: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is bound to another client certificate.",
		Cause:       "The token's `cnf.x5t#S256` is not the base64url SHA-256 of the DER client certificate of this TLS connection: a stolen token, or a client that renewed its certificate after getting the token.",
		Hint:        "Use the certificate the token was issued with, or request a new token over the new certificate.",
		Class:       ClassClient,
		Spec:        "RFC 8705 §3, §3.1",
	},
	MTLSTokenNotBound: {
		Status:      401,
		BearerError: "invalid_token",
		Message:     "The access token is not bound to a client certificate.",
		Cause:       "`proof_of_possession_mtls` is `strict` and the token has no `cnf.x5t#S256` (JWT claim or introspection answer).",
		Hint:        "Request the token over mutual TLS at a provider that issues certificate-bound tokens (RFC 8705 §3), or set `proof_of_possession_mtls` to `optional`.",
		Class:       ClassClient,
		Spec:        "RFC 8705 §3",
	},
}

func init() {
	for c, e := range popCatalog {
		if _, dup := catalog[c]; dup {
			panic("errcode: duplicate " + string(c))
		}
		e.Code = c
		catalog[c] = e
	}
}
