package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/dpop"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// benchKong is a Kong that answers one fixed request and records whether
// the request was let through.
type benchKong struct {
	headers map[string][]string
	url     gateway.RequestURL
	authed  bool
	exited  int
}

func (k *benchKong) Headers() (map[string][]string, error)         { return k.headers, nil }
func (k *benchKong) Method() (string, error)                       { return "GET", nil }
func (k *benchKong) RawQuery() (string, error)                     { return "", nil }
func (k *benchKong) RawBody() ([]byte, error)                      { return nil, nil }
func (k *benchKong) ClientIP() (string, error)                     { return "127.0.0.1", nil }
func (k *benchKong) RequestURL() (gateway.RequestURL, error)       { return k.url, nil }
func (k *benchKong) Credential() (string, error)                   { return "", nil }
func (k *benchKong) LoadConsumer(string) (gateway.Consumer, error) { return gateway.Consumer{}, nil }
func (k *benchKong) Authenticate(*gateway.Consumer, string) error  { k.authed = true; return nil }
func (k *benchKong) SetUpstreamHeaders(map[string]string) error    { return nil }
func (k *benchKong) SetUpstreamRawQuery(string) error              { return nil }
func (k *benchKong) SetUpstreamBody([]byte) error                  { return nil }
func (k *benchKong) Log(string, string) error                      { return nil }
func (k *benchKong) SetSerializeValue(string, map[string]any) error {
	return nil
}
func (k *benchKong) Exit(status int, _ []byte, _ map[string][]string) { k.exited = status }
func (k *benchKong) ServiceResponse() (int, map[string][]string, []byte, error) {
	return 0, nil, nil, nil
}
func (k *benchKong) SetResponseHeader(string, string) error { return nil }

var _ gateway.Kong = (*benchKong)(nil)

const benchIssuer = "https://issuer.example.test"

// benchConfig is a compiled config with a static RS256 key set, so no
// provider is involved: the bearer path is a warm verified-token cache hit.
func benchConfig(b *testing.B, dpopMode string) (*Config, *rsa.PrivateKey) {
	b.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	set, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}}})
	raw := fmt.Sprintf(`{"static_jwks":%q,"allowed_issuers":[%q],"token_mode":"jwt","proof_of_possession_dpop":%q}`, set, benchIssuer, dpopMode)
	var c Config
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		b.Fatal(err)
	}
	return &c, k
}

// serveFunc compiles cfg once and returns one access event under it.
func serveFunc(b *testing.B, cfg *Config) func(k gateway.Kong) {
	a, err := cfg.Compile()
	if err != nil {
		b.Fatal(err)
	}
	prep := func() (*gateway.Policy, gateway.Authenticator, error) { return a.policy, a, nil }
	meta := &gateway.Meta{}
	return func(k gateway.Kong) { gateway.Serve(k, PluginName, meta, prep) }
}

func benchToken(b *testing.B, k *rsa.PrivateKey, jkt string) string {
	c := jwt.MapClaims{"iss": benchIssuer, "sub": "user-1", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "jti": "t-1"}
	if jkt != "" {
		c["cnf"] = map[string]any{"jkt": jkt}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(k)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkServeBearer is the baseline: a whole access event (gateway.Serve)
// for a bearer JWT already in the verified-token cache.
func BenchmarkServeBearer(b *testing.B) {
	cfg, k := benchConfig(b, "optional")
	tok := benchToken(b, k, "")
	kong := &benchKong{headers: map[string][]string{"authorization": {"Bearer " + tok}}}
	serve := serveFunc(b, cfg)
	serve(kong) // warm
	b.ReportAllocs()
	for b.Loop() {
		kong.authed = false
		serve(kong)
		if !kong.authed || kong.exited != 0 {
			b.Fatalf("refused: %d", kong.exited)
		}
	}
}

// BenchmarkServeDPoP is the same event for a DPoP-bound JWT (also cached)
// with a fresh proof per request: parse, one signature verification with
// the proof's key, the request-bound checks, the binding and the replay
// store. Proofs are made before the timer starts.
func BenchmarkServeDPoP(b *testing.B) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, key := range []crypto.Signer{ec, rk, ed} {
		s, err := dpop.NewSigner(key, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Alg(), func(b *testing.B) {
			cfg, k := benchConfig(b, "optional")
			tok := benchToken(b, k, s.Thumbprint())
			uri := "https://api.example.test/orders"
			proofs := make([]string, b.N+1)
			for i := range proofs {
				if proofs[i], err = s.Proof("GET", uri, tok, ""); err != nil {
					b.Fatal(err)
				}
			}
			kong := &benchKong{headers: map[string][]string{"authorization": {"DPoP " + tok}},
				url: gateway.RequestURL{Scheme: "https", ForwardedScheme: "https", ForwardedHost: "api.example.test", ForwardedPort: 443, PathWithQuery: "/orders"}}
			kong.headers["dpop"] = []string{proofs[b.N]}
			serve := serveFunc(b, cfg)
			serve(kong) // warm the token cache
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				kong.authed = false
				kong.headers["dpop"] = proofs[i : i+1]
				serve(kong)
				if !kong.authed || kong.exited != 0 {
					b.Fatalf("refused: %d", kong.exited)
				}
			}
		})
	}
}
