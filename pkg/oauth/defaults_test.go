package oauth

import (
	"reflect"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/defaultstest"
	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// TestDocumentedDefaultsApplied: every field's documented default is what
// a config that leaves the field unset compiles to (see defaultstest).
func TestDocumentedDefaultsApplied(t *testing.T) {
	cfg := Config{Issuer: "https://idp.example", JWKSURI: "https://idp.example/jwks-defaults-test",
		IntrospectionEndpoint: "https://idp.example/introspect", IntrospectionClientID: "gateway"}
	a, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	var zero Config // for the fields this test has to set
	if err := kongschema.ApplyDefaults(&zero); err != nil {
		t.Fatal(err)
	}
	pol := a.introPolicy.Options()
	remote := a.keys.(*jwks.RemoteSet).Options()
	intro := a.intro.Options()
	secs := func(d time.Duration) defaultstest.Applied {
		return func(w any) bool { return d == time.Duration(w.(int))*time.Second }
	}
	same := func(v any) defaultstest.Applied { return func(w any) bool { return reflect.DeepEqual(v, w) } }
	expired := errcode.New(errcode.TokenExpired, "")
	defaultstest.Check(t, &cfg, map[string]defaultstest.Applied{
		"issuer":                             same(zero.Issuer),
		"jwks_uri":                           same(zero.JWKSURI),
		"introspection_endpoint":             same(zero.IntrospectionEndpoint),
		"introspection_client_id":            same(zero.IntrospectionClientID),
		"static_jwks":                        func(w any) bool { _, static := a.keys.(*jwks.Set); return w == "" && !static },
		"audiences":                          same(pol.Audiences),
		"allowed_algorithms":                 same(a.verifier.Algorithms()),
		"leeway_seconds":                     secs(pol.Leeway),
		"max_token_age_seconds":              secs(pol.MaxTokenAge),
		"require_typ_at_jwt":                 same(a.verifier.RequiresTypATJWT()),
		"required_scopes":                    same(pol.RequiredScopes),
		"scope_match":                        same(pol.ScopeMatch),
		"scope_claims":                       same(pol.ScopeClaims),
		"allowed_client_ids":                 same(pol.AllowedClientIDs),
		"token_query_param":                  same(a.queryParam),
		"token_cookie":                       same(a.cookie),
		"token_mode":                         same(a.mode),
		"jwks_min_refresh_seconds":           secs(remote.MinRefresh),
		"jwks_cache_ttl_seconds":             secs(remote.TTL),
		"introspection_client_secret":        same(intro.ClientSecret),
		"introspection_auth_method":          same(intro.AuthMethod),
		"token_type_hint":                    same(intro.TokenTypeHint),
		"introspection_cache_ttl_seconds":    secs(intro.CacheTTL),
		"introspection_negative_ttl_seconds": secs(intro.NegativeTTL),
		"http_timeout_ms":                    func(w any) bool { return a.timeout == time.Duration(w.(int))*time.Millisecond },
		"consumer_claim":                     same(a.consumer),
		"consumer_by":                        same(a.consumerBy),
		"consumer_optional":                  same(a.optional),
		"anonymous":                          same(a.policy.Anonymous),
		"hide_credentials":                   same(a.hide),
		"claims_to_headers":                  same(a.claimsToHdr),
		"run_on_preflight":                   same(a.policy.RunOnPreflight),
		"realm":                              func(w any) bool { return a.policy.Challenge(expired) == gateway.BearerChallenge(w.(string))(expired) },
		"log_level":                          same(a.policy.LogLevel),
		"policy":                             func(w any) bool { return w == "local" && intro.Shared == nil },
		"fault_tolerant":                     func(w any) bool { return sharedIntro(t, cfg).FaultTolerant() == w },
		// Both modes off: nothing checks a binding, no DPoP scheme, no
		// extra facts or challenges.
		"proof_of_possession_dpop": func(w any) bool { return w == PoPOff && a.pop == nil && a.policy.Challenges == nil },
		"proof_of_possession_mtls": func(w any) bool { return w == PoPOff && a.pop == nil },
		"dpop_proof_lifetime":      func(w any) bool { return dpopOn(t, cfg).dpop.Lifetime() == time.Duration(w.(int))*time.Second },
		"dpop_use_nonce":           func(w any) bool { return dpopOn(t, cfg).dpop.UsesNonces() == w.(bool) },
	})
}

// sharedIntro compiles cfg with policy redis (fault_tolerant left unset)
// and returns its introspection client's Redis store.
func sharedIntro(t *testing.T, cfg Config) *redisstore.Store {
	t.Helper()
	cfg.Policy, cfg.Redis = ptr("redis"), redisstore.Config{Host: "127.0.0.1"}
	a, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return a.intro.Options().Shared
}

// dpopOn compiles cfg with proof_of_possession_dpop on and nothing else
// changed, so the defaults of the DPoP fields can be seen.
func dpopOn(t *testing.T, cfg Config) *possession {
	t.Helper()
	cfg.ProofOfPossessionDPoP = ptr(PoPOptional)
	a, err := cfg.Compile()
	if err != nil || a.pop == nil {
		t.Fatalf("DPoP on: %v", err)
	}
	return a.pop
}

// The defaults shared with the libraries (the key set's refresh bounds,
// the algorithm allow-list) are the libraries' own values.
func TestLibraryDefaultsAgree(t *testing.T) {
	d, err := kongschema.Defaults(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(d["jwks_min_refresh_seconds"].(int))*time.Second != jwks.DefaultMinRefresh ||
		time.Duration(d["jwks_cache_ttl_seconds"].(int))*time.Second != jwks.DefaultTTL {
		t.Fatalf("oauth's key set defaults %v/%v differ from jwks's %v/%v", d["jwks_min_refresh_seconds"], d["jwks_cache_ttl_seconds"], jwks.DefaultMinRefresh, jwks.DefaultTTL)
	}
	if !reflect.DeepEqual(d["allowed_algorithms"], accesstoken.DefaultAlgorithms) {
		t.Fatalf("allowed_algorithms default %v, accesstoken.DefaultAlgorithms %v", d["allowed_algorithms"], accesstoken.DefaultAlgorithms)
	}
}
