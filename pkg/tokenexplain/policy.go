package tokenexplain

import (
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Policy holds the optional allow-lists; an empty list allows anything.
type Policy struct {
	ClientIDs    map[string]bool
	RedirectURIs map[string]bool
	Scopes       map[string]bool
	GrantTypes   map[string]bool
}

func set(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}

// NewPolicy builds a policy from the configured lists.
func NewPolicy(clientIDs, redirectURIs, scopes, grantTypes []string) *Policy {
	return &Policy{ClientIDs: set(clientIDs), RedirectURIs: set(redirectURIs), Scopes: set(scopes), GrantTypes: set(grantTypes)}
}

// RedirectAllowed reports whether uri is allowed (exact string match, RFC
// 9700 §4.1.3: no pattern or prefix matching), or no list is configured.
func (p *Policy) RedirectAllowed(uri string) bool {
	return p.RedirectURIs == nil || uri == "" || p.RedirectURIs[uri]
}

// Check returns the first way r breaks the allow-lists, or a malformed
// request, as a catalog error; nil when it is fine.
func (p *Policy) Check(r *Request) *errcode.Error {
	if r.Problem != "" {
		return errcode.New(errcode.TokenRequestInvalid, "%s", r.Problem).With("client_id", r.ClientID)
	}
	if p.GrantTypes != nil && r.Kind == Token && !p.GrantTypes[r.GrantType] {
		return errcode.New(errcode.UnsupportedGrantType, "grant_type %q is not in allowed_grant_types", r.GrantType).
			With("grant_type", r.GrantType).With("client_id", r.ClientID)
	}
	if p.ClientIDs != nil && !p.ClientIDs[r.ClientID] {
		return errcode.New(errcode.ClientAuthFailed, "client_id %q is not in allowed_client_ids", r.ClientID).With("client_id", r.ClientID)
	}
	if !p.RedirectAllowed(r.RedirectURI) {
		return errcode.New(errcode.RedirectURIMismatch, "redirect_uri %q is not in allowed_redirect_uris (exact match, RFC 9700 §4.1.3)", r.RedirectURI).
			With("redirect_uri", r.RedirectURI).With("client_id", r.ClientID)
	}
	if p.Scopes != nil {
		var bad []string
		for _, s := range r.Scopes {
			if !p.Scopes[s] {
				bad = append(bad, s)
			}
		}
		if len(bad) > 0 {
			return errcode.New(errcode.InvalidScope, "scope %q is not in allowed_scopes", strings.Join(bad, " ")).
				With("scopes", strings.Join(bad, " ")).With("client_id", r.ClientID)
		}
	}
	return nil
}
