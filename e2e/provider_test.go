package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const apiAudience = "https://api.example.test"

// signer is an RSA signing key published in the provider's JWKS.
type signer struct {
	kid string
	key *rsa.PrivateKey
}

func newSigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, key: k}
}

func (s *signer) jwk() map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "RSA", "kid": s.kid, "use": "sig", "alg": "RS256",
		"n": b64(s.key.N.Bytes()), "e": b64(big.NewInt(int64(s.key.E)).Bytes())}
}

// mint signs claims (RS256) with extra header fields.
func (s *signer) mint(t testing.TB, c jwt.MapClaims, hdr ...any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = s.kid
	for i := 0; i+1 < len(hdr); i += 2 {
		tok.Header[hdr[i].(string)] = hdr[i+1]
	}
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// provider is the test's own OAuth provider on 127.0.0.1: OIDC discovery,
// a JWKS and an introspection endpoint that refuses the gateway's
// credentials. It counts the calls Kong's plugins make, so tests can prove
// that process-wide caches work in a real gateway.
type provider struct {
	srv *httptest.Server

	mu   sync.Mutex
	keys []*signer
	// jwksMode: "" ok, "html" (not JSON), "500".
	jwksMode string

	discoveryCalls, jwksCalls, introCalls atomic.Int64
	// fetchLog records each discovery and JWKS fetch.
	fetchLog []string
}

func (p *provider) logFetch(what string) {
	p.mu.Lock()
	p.fetchLog = append(p.fetchLog, time.Now().Format("15:04:05.000")+" "+what)
	p.mu.Unlock()
}

func (p *provider) fetches() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.fetchLog...)
}

func newProvider(t testing.TB, keys ...*signer) *provider {
	p := &provider{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discoveryCalls.Add(1)
		p.logFetch("discovery")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks",
			"introspection_endpoint": p.srv.URL + "/introspect", "token_endpoint": p.srv.URL + "/token"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.jwksCalls.Add(1)
		p.logFetch("jwks")
		p.mu.Lock()
		mode := p.jwksMode
		var set []map[string]any
		for _, k := range p.keys {
			set = append(set, k.jwk())
		}
		p.mu.Unlock()
		switch mode {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>maintenance</html>")
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
		}
	})
	// Refuses every client: the gateway's own credentials are wrong.
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		p.introCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
	})
	// Answers after 2 s: longer than the routes' http_timeout_ms.
	mux.HandleFunc("/slow/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		http.Error(w, "late", http.StatusGatewayTimeout)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) issuer() string { return p.srv.URL }

func (p *provider) setJWKSMode(m string) { p.mu.Lock(); p.jwksMode = m; p.mu.Unlock() }

// claims are valid claims for issuer, with overrides (a nil value deletes).
func claims(iss string, kv ...any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": iss, "sub": "user-1", "aud": []string{apiAudience}, "client_id": "web-app",
		"scope": "read write", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": fmt.Sprint("jti-", now.UnixNano())}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// closedURL is an address nothing listens on.
func closedURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
