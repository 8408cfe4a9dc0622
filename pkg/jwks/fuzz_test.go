package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func FuzzParse(f *testing.F) {
	k := keys(f)
	f.Add(setJSON(rsaJWK("r", &k.rsa.PublicKey), ecJWK("e", &k.p256.PublicKey), edJWK("d", k.edPub)), true)
	f.Add(setJSON(ecJWK("p384", &k.p384.PublicKey), ecJWK("p521", &k.p521.PublicKey)), false)
	f.Add(setJSON(octJWK("h", make([]byte, 32))), true)
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`), false)
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`), false)
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`), false)
	f.Add([]byte(`{"keys":null}`), false)
	f.Add([]byte(`[]`), true)
	f.Fuzz(func(t *testing.T, data []byte, allowOct bool) {
		set, err := Parse(data, allowOct)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if len(set.Keys) == 0 {
			t.Fatal("a set without usable keys parsed")
		}
		for _, key := range set.Keys {
			switch pub := key.Public.(type) {
			case *rsa.PublicKey:
				if key.Type != "RSA" || pub.N.BitLen() < minRSABits || pub.E < 3 {
					t.Fatalf("bad RSA key %+v", key)
				}
			case *ecdsa.PublicKey:
				if key.Type != "EC" || pub.Curve.Params().Name != key.Curve {
					t.Fatalf("bad EC key %+v", key)
				}
			case ed25519.PublicKey:
				if key.Type != "OKP" || len(pub) != ed25519.PublicKeySize {
					t.Fatalf("bad OKP key %+v", key)
				}
			case []byte:
				if key.Type != "oct" || !allowOct || len(pub) < 32 {
					t.Fatalf("bad oct key %+v (allowOct %v)", key, allowOct)
				}
			default:
				t.Fatalf("key of type %T", pub)
			}
			if key.Use != "" && key.Use != "sig" {
				t.Fatalf("non-signature key kept: %+v", key)
			}
			if key.ID != "" {
				if _, err := set.Lookup(context.Background(), key.ID); err != nil {
					t.Fatalf("kept key %q not found: %v", key.ID, err)
				}
			}
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://i","jwks_uri":"https://i/keys","scopes_supported":["openid"]}`))
	f.Add([]byte(`{"issuer":"https://i","token_endpoint":"/t"}`))
	f.Add([]byte(`{"issuer":42}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"issuer":"x","jwks_uri":"http://[::1]:80/k#f"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseMetadata(data)
		if err != nil {
			if !errors.Is(err, errcode.ProviderInvalidResp) {
				t.Fatalf("error is not OAUTH_PROVIDER_INVALID_RESPONSE: %v", err)
			}
			return
		}
		if md.Issuer == "" {
			t.Fatal("metadata without issuer accepted")
		}
		for _, ep := range []string{md.JWKSURI, md.TokenEndpoint, md.IntrospectionEndpoint, md.AuthorizationEndpoint} {
			if ep == "" {
				continue
			}
			u, err := url.Parse(ep)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				t.Fatalf("endpoint %q accepted", ep)
			}
		}
	})
}

// ExampleParse shows a static JWKS from the configuration: symmetric keys
// allowed, the encryption key skipped with its reason.
func ExampleParse() {
	set, err := Parse([]byte(`{"keys":[
		{"kty":"oct","kid":"hs","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"},
		{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}]}`), true)
	if err != nil {
		fmt.Println(errcode.Wrap(errcode.ConfigInvalid, err))
		return
	}
	fmt.Println(set.KeyIDs())
	fmt.Println(set.Skipped)
	// Output:
	// [hs]
	// [keys[1] (kid "enc"): use "enc", not a signature key (RFC 7517 §4.2)]
}
