package gatewaytest_test

import (
	"fmt"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/gateway/gatewaytest"
)

// headerAuth accepts the request when X-Token is "let-me-in".
type headerAuth struct{}

func (headerAuth) Authenticate(r *gateway.Request) (*gateway.Identity, error) {
	if r.Header("X-Token") != "let-me-in" {
		return nil, errcode.New(errcode.APIKeyInvalid, "wrong token")
	}
	return &gateway.Identity{Consumer: "alice", CredentialID: "token-1"}, nil
}

// An Authenticator is tested on its own with a Request built over the
// fake; gateway.Serve runs the whole event against it.
func ExampleKong() {
	k := gatewaytest.New(gatewaytest.Request{Method: "GET", Headers: gatewaytest.Headers("X-Token", "let-me-in")})
	k.AddConsumers(gateway.Consumer{ID: "5f8a6e3c-0d6b-4c3e-8f5e-3b1f2a9c7d10", Username: "alice"})

	ident, err := headerAuth{}.Authenticate(k.NewRequest())
	fmt.Println(ident.Consumer, err, k.CallList())

	pol := &gateway.Policy{Plugin: "example", RunOnPreflight: true}
	gateway.Serve(k, "example", &gateway.Meta{}, func() (*gateway.Policy, gateway.Authenticator, error) { return pol, headerAuth{}, nil })
	fmt.Println(k.Exited, k.Upstream[gateway.HeaderConsumerUsername], k.AuthCredential)
	// Output:
	// alice <nil> get_headers
	// false alice token-1
}
