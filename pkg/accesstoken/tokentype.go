package accesstoken

import (
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Only access tokens authenticate a request. Providers say what a token is
// in a few members, and whichever of them is present must name an access
// token: a refresh token must never work as a bearer token (fosite, behind
// Ory Hydra, falls back to refresh tokens when introspecting unless told
// otherwise, and token_type_hint=access_token only changes the order in
// which it looks), nor an ID token or a logout token. The accepted values
// are explicit; a member that is absent says nothing (RFC 7662 §2.2 makes
// token_type OPTIONAL).
var (
	// AccessTokenUses are the accepted values of "token_use": fosite/Hydra
	// answer "access_token" or "refresh_token"; AWS Cognito tokens carry
	// "access" or "id".
	AccessTokenUses = []string{"access_token", "access"}
	// AccessTokenTypes are the accepted values of an introspection answer's
	// "token_type" (RFC 7662 §2.2: an RFC 6749 §7.1 access token type),
	// compared case-insensitively (RFC 6749 §5.1): "Bearer", which is what
	// this plugin reads (RFC 6750), and the RFC 8693 §3 access token
	// identifier some providers put there. Refused, among others:
	// "refresh_token" and "Refresh" (ForgeRock, Curity, WSO2), "N_A", and
	// "DPoP", unless the caller checks DPoP proofs (CheckTokenUseAlso): a
	// sender-constrained token is refused where no proof is checked (RFC
	// 9449 §7.1).
	AccessTokenTypes = []string{"bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token"}
	// notAccessTyp are the values of Keycloak's "typ" claim (in its JWTs
	// and introspection answers) that name another kind of token. "typ" is
	// no registered claim, so other values are left alone.
	notAccessTyp = []string{"refresh", "offline", "id", "logout"}
)

// CheckTokenUse refuses claims that say the token is not an access token:
// "token_use" outside AccessTokenUses, a Keycloak "typ" naming a refresh,
// offline, ID or logout token, and, for introspection answers
// (introspected), "token_type" outside AccessTokenTypes. A member with the
// wrong JSON type is refused too: it cannot be shown to name an access
// token.
func CheckTokenUse(raw map[string]any, introspected bool) error {
	return CheckTokenUseAlso(raw, introspected)
}

// CheckTokenUseAlso is CheckTokenUse accepting more token_type values as
// well: "DPoP" (RFC 9449 §6.2) when the caller checks DPoP proofs.
func CheckTokenUseAlso(raw map[string]any, introspected bool, moreTypes ...string) error {
	if v, ok := raw["token_use"]; ok {
		if s, _ := v.(string); !oneOf(s, AccessTokenUses, false) {
			return notAccess("token_use", v, AccessTokenUses)
		}
	}
	if v, ok := raw["typ"]; ok {
		if s, isStr := v.(string); isStr && oneOf(s, notAccessTyp, true) {
			return notAccess("typ", v, []string{"Bearer"})
		}
	}
	if v, ok := raw["token_type"]; ok && introspected {
		if s, _ := v.(string); !oneOf(s, AccessTokenTypes, true) && !oneOf(s, moreTypes, true) {
			return notAccess("token_type", v, append(AccessTokenTypes[:len(AccessTokenTypes):len(AccessTokenTypes)], moreTypes...))
		}
	}
	return nil
}

func oneOf(s string, list []string, fold bool) bool {
	for _, x := range list {
		if s == x || fold && strings.EqualFold(s, x) {
			return s != ""
		}
	}
	return false
}

func notAccess(member string, v any, accepted []string) error {
	shown := "a non-string"
	if s, ok := v.(string); ok {
		shown = clip(s)
	}
	return errcode.New(errcode.TokenTypeInvalid, "%s is %q: not an access token", member, shown).
		With(member, shown).With("accepted_"+member, accepted)
}
