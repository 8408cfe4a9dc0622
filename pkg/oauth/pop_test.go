package oauth

import (
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

func TestCompilePossessionErrorsNameTheField(t *testing.T) {
	base := func(c Config) Config { c.Issuer = "https://i.example"; return c }
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"dpop mode", base(Config{ProofOfPossessionDPoP: ptr("required")}), "proof_of_possession_dpop"},
		{"mtls mode", base(Config{ProofOfPossessionMTLS: ptr("on")}), "proof_of_possession_mtls"},
		{"lifetime", base(Config{ProofOfPossessionDPoP: ptr("optional"), DPoPProofLifetime: ptr(0)}), "dpop_proof_lifetime"},
		{"alg none", base(Config{ProofOfPossessionDPoP: ptr("optional"), DPoPAllowedAlgs: []string{"ES256", "none"}}), "dpop_allowed_algs[1]"},
		{"alg HMAC", base(Config{ProofOfPossessionDPoP: ptr("strict"), DPoPAllowedAlgs: []string{"HS256"}}), "dpop_allowed_algs[0]"},
		{"alg unknown", base(Config{ProofOfPossessionDPoP: ptr("strict"), DPoPAllowedAlgs: []string{"ES257"}}), "dpop_allowed_algs[0]: expected one of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Compile()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestCompilePossessionDefaults(t *testing.T) {
	// Off by default: no DPoP scheme, no extra facts, the Bearer challenge.
	a, err := (&Config{Issuer: "https://i.example"}).Compile()
	if err != nil {
		t.Fatal(err)
	}
	if a.pop != nil || a.policy.Challenges != nil || a.policy.Prefetch&gateway.FactURL != 0 {
		t.Fatalf("possession on by default: %+v", a.policy)
	}
	// dpop_allowed_algs defaults to the asymmetric allowed_algorithms.
	a, err = (&Config{Issuer: "https://i.example", ProofOfPossessionDPoP: ptr("optional"), AllowedAlgorithms: []string{"HS256", "ES256", "EdDSA"}, StaticJWKS: ""}).Compile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.pop.dpop.Algorithms(), ","); got != "ES256,EdDSA" {
		t.Fatalf("default dpop algs %s", got)
	}
	if a.policy.Prefetch&(gateway.FactURL|gateway.FactMethod) != gateway.FactURL|gateway.FactMethod || a.policy.Challenges == nil {
		t.Fatalf("facts %v", a.policy.Prefetch)
	}
	a, _ = (&Config{Issuer: "https://i.example", ProofOfPossessionMTLS: ptr("strict")}).Compile()
	if a.pop == nil || a.pop.acceptDPoP() || a.policy.Challenges != nil || strings.Join(a.policy.OwnedHeaders, ",") != "X-Authenticated-Scope,X-Authenticated-Userid,X-Client-Cert" {
		t.Fatalf("mtls: %+v", a.policy)
	}
}
