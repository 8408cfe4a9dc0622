package accesstoken_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/accesstoken"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// oneKey is the smallest jwks.Source: a single key under one kid.
type oneKey struct{ k *jwks.Key }

func (s oneKey) Lookup(_ context.Context, kid string) (*jwks.Key, error) {
	if kid != s.k.ID {
		return nil, errcode.New(errcode.KeyNotFound, "kid %q", kid)
	}
	return s.k, nil
}

func ExampleVerifier_Verify() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_700_000_000, 0)

	policy, _ := accesstoken.NewPolicy(accesstoken.PolicyOptions{
		AllowedIssuers: []string{"https://as.example.com"},
		Audiences:      []string{"api://orders"},
		RequiredScopes: []string{"orders:read"},
	})
	v, _ := accesstoken.NewVerifier(accesstoken.VerifierOptions{
		Keys:            oneKey{&jwks.Key{ID: "k1", Type: "EC", Curve: "P-256", Public: &priv.PublicKey}},
		Policy:          policy,
		RequireTypATJWT: true,
		Now:             func() time.Time { return now },
	})

	mint := func(scope string) string {
		t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"iss": "https://as.example.com", "aud": "api://orders", "sub": "alice",
			"scope": scope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		t.Header["kid"], t.Header["typ"] = "k1", "at+jwt"
		s, _ := t.SignedString(priv)
		return s
	}

	c, err := v.Verify(context.Background(), mint("orders:read"))
	fmt.Println(c.Subject, c.Scopes, err)

	_, err = v.Verify(context.Background(), mint("profile"))
	e := errcode.From(err)
	fmt.Println(e.Code, e.Code.Status(), e.Field("required_scope"))
	// Output:
	// alice [orders:read] <nil>
	// OAUTH_INSUFFICIENT_SCOPE 403 orders:read
}

func ExamplePolicy_Check() {
	p, _ := accesstoken.NewPolicy(accesstoken.PolicyOptions{Audiences: []string{"api://orders"}, RequireExp: true})
	c, _ := accesstoken.ParseClaims([]byte(`{"aud":["api://billing"],"exp":1700003600}`))
	err := p.Check(c, time.Unix(1_700_000_000, 0))
	fmt.Println(err)
	fmt.Println(errcode.From(err).Field("expected_aud"))
	// Output:
	// OAUTH_AUDIENCE_MISMATCH: aud ["api://billing"] contains none of the configured audiences
	// [api://orders]
}
