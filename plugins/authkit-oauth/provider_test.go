package main

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
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signer is a real generated key with its JWK.
type signer struct {
	kid string
	alg string
	key crypto.Signer
	jwk map[string]any
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newRSA(t testing.TB, kid string) *signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: "RS256", key: k, jwk: map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}}
}

func newEC(t testing.TB, kid string) *signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pad := func(b []byte) []byte { out := make([]byte, 32); copy(out[32-len(b):], b); return out }
	return &signer{kid: kid, alg: "ES256", key: k, jwk: map[string]any{"kty": "EC", "kid": kid, "crv": "P-256",
		"x": b64(pad(k.X.Bytes())), "y": b64(pad(k.Y.Bytes()))}}
}

func newEd(t testing.TB, kid string) *signer {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: "EdDSA", key: priv, jwk: map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(pub)}}
}

// mint signs claims with s; hdr overrides header members.
func (s *signer) mint(t testing.TB, claims jwt.MapClaims, hdr ...any) string {
	t.Helper()
	m := jwt.GetSigningMethod(s.alg)
	tok := jwt.NewWithClaims(m, claims)
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

// fakeProvider is an OAuth provider with discovery, a JWKS endpoint and an
// introspection endpoint, each of which can be made to misbehave.
type fakeProvider struct {
	srv *httptest.Server

	mu         sync.Mutex
	keys       []*signer
	jwksMode   string // "" ok, "html", "garbage", "500" (after 50 ms, so concurrent fetches overlap)
	discIssuer string // "" = the real URL
	discMode   string // "" ok, "500" (after 50 ms)
	introspect func(w http.ResponseWriter, token string)
	// introSecret, when set, is the only gateway client secret the
	// introspection endpoint accepts (client_secret_basic); any other gets
	// 401 invalid_client (RFC 7662 §2.1).
	introSecret string
	jwksFetches atomic.Int64
	introCalls  atomic.Int64
}

func newProvider(t testing.TB, keys ...*signer) *fakeProvider {
	p := &fakeProvider{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		iss, mode := p.discIssuer, p.discMode
		p.mu.Unlock()
		if mode == "500" {
			time.Sleep(50 * time.Millisecond)
			http.Error(w, "provider down", http.StatusInternalServerError)
			return
		}
		if iss == "" {
			iss = p.srv.URL
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "jwks_uri": p.srv.URL + "/jwks",
			"introspection_endpoint": p.srv.URL + "/introspect", "token_endpoint": p.srv.URL + "/token"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.jwksFetches.Add(1)
		p.mu.Lock()
		mode := p.jwksMode
		var set []map[string]any
		for _, k := range p.keys {
			set = append(set, k.jwk)
		}
		p.mu.Unlock()
		switch mode {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		case "500":
			time.Sleep(50 * time.Millisecond)
			http.Error(w, "provider down", http.StatusInternalServerError)
		case "garbage":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"keys":[{"kty":"RSA","n":"!!"`)
		default:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"keys": set})
		}
	})
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		p.introCalls.Add(1)
		r.ParseForm()
		p.mu.Lock()
		h, secret := p.introspect, p.introSecret
		p.mu.Unlock()
		if _, pass, _ := r.BasicAuth(); secret != "" && pass != secret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		if h == nil {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"active":false}`)
			return
		}
		h(w, r.PostForm.Get("token"))
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) issuer() string { return p.srv.URL }

func (p *fakeProvider) set(f func(p *fakeProvider)) { p.mu.Lock(); f(p); p.mu.Unlock() }

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

// claims returns valid claims for issuer, with overrides.
func claims(iss string, kv ...any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": iss, "sub": "user-1", "aud": []string{"https://api.example.test"}, "client_id": "web-app",
		"scope": "read write", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": fmt.Sprint("jti-", now.UnixNano())}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
