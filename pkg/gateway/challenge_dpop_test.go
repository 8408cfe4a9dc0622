package gateway

import (
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func TestDPoPChallenges(t *testing.T) {
	algs := []string{"ES256", "EdDSA"}
	optional, strict := DPoPChallenges("api", algs, true), DPoPChallenges("api", algs, false)
	for _, tc := range []struct {
		name string
		ch   Challenges
		err  *errcode.Error
		want string
	}{
		{"optional, no token", optional, errcode.New(errcode.TokenMissing, ""), `Bearer realm="api"|DPoP realm="api", algs="ES256 EdDSA"`},
		{"strict, no token", strict, errcode.New(errcode.TokenMissing, ""), `DPoP realm="api", algs="ES256 EdDSA"`},
		{"bearer token expired", optional, errcode.New(errcode.TokenExpired, ""),
			`Bearer realm="api", error="invalid_token", error_description="The access token has expired.", error_code="OAUTH_TOKEN_EXPIRED"`},
		{"DPoP token expired", optional, errcode.New(errcode.TokenExpired, "").With(FieldAuthScheme, "DPoP"),
			`DPoP realm="api", error="invalid_token", error_description="The access token has expired.", algs="ES256 EdDSA", error_code="OAUTH_TOKEN_EXPIRED"`},
		{"proof refused", optional, errcode.New(errcode.DPoPReplayed, ""),
			`DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof was already used.", algs="ES256 EdDSA", error_code="OAUTH_DPOP_PROOF_REPLAYED"`},
		{"downgrade", optional, errcode.New(errcode.DPoPDowngrade, ""),
			`DPoP realm="api", error="invalid_token", error_description="A DPoP-bound access token must be sent with the DPoP scheme.", algs="ES256 EdDSA", error_code="OAUTH_DPOP_DOWNGRADE"`},
		{"nonce", strict, errcode.New(errcode.DPoPNonceRequired, ""),
			`DPoP realm="api", error="use_dpop_nonce", error_description="A DPoP nonce is required.", algs="ES256 EdDSA", error_code="OAUTH_DPOP_NONCE_REQUIRED"`},
		{"scope, strict", strict, errcode.New(errcode.InsufficientScope, "").With("required_scope", "write"),
			`DPoP realm="api", error="insufficient_scope", error_description="The access token does not carry the required scope.", scope="write", algs="ES256 EdDSA", error_code="OAUTH_INSUFFICIENT_SCOPE"`},
		{"store down: no challenge", strict, errcode.New(errcode.DPoPReplayStoreFailed, ""), ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(tc.ch(tc.err), "|"); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
