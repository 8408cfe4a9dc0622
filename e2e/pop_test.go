package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

// PoPEnv are the Kong settings that hand the TLS client certificate to a
// Go plugin (README, Certificate-bound tokens): the HTTPS proxy listener
// asks for a client certificate without verifying it against a CA (the
// token's binding is the check), and headers-more puts it, URL-escaped
// PEM, into X-Client-Cert before the access phase, replacing whatever the
// client sent.
var PoPEnv = map[string]string{
	"KONG_NGINX_PROXY_SSL_VERIFY_CLIENT":      "optional_no_ca",
	"KONG_NGINX_PROXY_MORE_SET_INPUT_HEADERS": `"X-Client-Cert: $ssl_client_escaped_cert"`,
	// 127.0.0.2 plays the load balancer in front of Kong: only its
	// X-Forwarded-* headers are believed (kong.request.get_forwarded_*).
	"KONG_TRUSTED_IPS": "127.0.0.2",
}

// testCert is a generated certificate and key.
type testCert struct {
	der  []byte
	key  *ecdsa.PrivateKey
	x5t  string // RFC 8705 §3.1 x5t#S256
	pair tls.Certificate
}

func newCert(t testing.TB, cn string, ca *testCert, ips ...net.IP) *testCert {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	parent, signKey := tmpl, k
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
	} else {
		parent, _ = x509.ParseCertificate(ca.der)
		signKey = ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	c := &testCert{der: der, key: k, x5t: base64.RawURLEncoding.EncodeToString(sum[:])}
	c.pair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	return c
}

func (c *testCert) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der})
}

func (c *testCert) keyPEM(t testing.TB) []byte {
	b, err := x509.MarshalECPrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b})
}

// popClient talks to Kong over TLS (trusting the test's CA), with a client
// certificate or none, from a given loopback source address.
func popClient(ca *testCert, cert *testCert, source string) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(ca.der))
	cfg := &tls.Config{RootCAs: pool}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{cert.pair}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DialContext: d.DialContext, DisableKeepAlives: true}}
}

func mustParse(der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

func do(t testing.TB, c *http.Client, method, u string, h http.Header) *response {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if host := h.Get("Host"); host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b, ReqID: resp.Header.Get("X-Kong-Request-Id")}
}

// TestSenderConstrained runs certificate-bound (RFC 8705) and DPoP-bound
// (RFC 9449) tokens through a real Kong with an HTTPS listener.
func TestSenderConstrained(t *testing.T) {
	realkong.Require(t)
	bin := realkong.BuildPlugins(t)
	up := newUpstream(t)
	as := newSigner(t, "as-1")
	prov := newProvider(t, as)
	ca := newCert(t, "authkit test CA", nil)
	server := newCert(t, "127.0.0.1", ca, net.ParseIP("127.0.0.1"))
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, server.pem(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, server.keyPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}

	oauth := func(extra obj) obj {
		c := obj{"issuer": prov.issuer(), "audiences": []any{apiAudience}, "realm": "api", "token_mode": "jwt"}
		for k, v := range extra {
			c[k] = v
		}
		return plugin("authkit-oauth", c)
	}
	cfg := obj{"_format_version": "3.0", "services": []any{obj{"name": "echo", "url": up.srv.URL, "routes": []any{
		route("mtls", "/mtls", oauth(obj{"proof_of_possession_mtls": "optional"})),
		route("mtls-strict", "/mtls-strict", oauth(obj{"proof_of_possession_mtls": "strict"})),
		route("dpop", "/dpop", oauth(obj{"proof_of_possession_dpop": "optional", "dpop_allowed_algs": []any{"ES256", "EdDSA"}})),
		route("dpop-nonce", "/dpop-nonce", oauth(obj{"proof_of_possession_dpop": "strict", "dpop_use_nonce": true, "dpop_proof_lifetime": 1})),
	}}}}
	env := map[string]string{"KONG_SSL_CERT": certFile, "KONG_SSL_CERT_KEY": keyFile}
	for k, v := range PoPEnv {
		env[k] = v
	}
	g := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: []string{"authkit-oauth"}, Config: marshal(t, cfg), TLS: true, Env: env})
	g.WaitStatus(t, "/mtls", 401, 30*time.Second)

	t.Run("mtls", func(t *testing.T) {
		certA, certB := newCert(t, "client-a", ca), newCert(t, "client-b", ca)
		// A self-signed client certificate works too: optional_no_ca.
		selfSigned := newCert(t, "self-signed client", nil)
		bound := as.mint(t, claims(prov.issuer(), "cnf", obj{"x5t#S256": certA.x5t}))
		boundSelf := as.mint(t, claims(prov.issuer(), "cnf", obj{"x5t#S256": selfSigned.x5t}))
		unbound := as.mint(t, claims(prov.issuer()))
		withA, withB, without := popClient(ca, certA, ""), popClient(ca, certB, ""), popClient(ca, nil, "")
		authz := func(tok string, kv ...string) http.Header {
			return hdr(append([]string{"Authorization", "Bearer " + tok}, kv...)...)
		}
		spoof := url.PathEscape(string(certA.pem()))

		r := do(t, withA, "GET", g.ProxyTLSURL+"/mtls", authz(bound))
		if r.Status != 200 || r.echo(t).has("X-Client-Cert") {
			t.Fatalf("bound to the connection's certificate: %d %s (the upstream must not get X-Client-Cert)", r.Status, r.Body)
		}
		if r := do(t, popClient(ca, selfSigned, ""), "GET", g.ProxyTLSURL+"/mtls", authz(boundSelf)); r.Status != 200 {
			t.Fatalf("self-signed client certificate: %d %s", r.Status, r.Body)
		}
		checkRefusal(t, g, do(t, withB, "GET", g.ProxyTLSURL+"/mtls", authz(bound)), 401, "OAUTH_MTLS_CERT_MISMATCH", "Bearer ")
		checkRefusal(t, g, do(t, without, "GET", g.ProxyTLSURL+"/mtls", authz(bound)), 401, "OAUTH_MTLS_CERT_MISSING", "Bearer ")
		// A client-sent X-Client-Cert never reaches the plugin: nginx
		// replaces it with the connection's certificate, or removes it.
		// The log detail tells "no header" from "header on plain HTTP
		// ignored": nginx removed the client's header in both cases.
		r = do(t, without, "GET", g.ProxyTLSURL+"/mtls", authz(bound, "X-Client-Cert", spoof))
		checkRefusal(t, g, r, 401, "OAUTH_MTLS_CERT_MISSING", "Bearer ")
		if rec := errorLogRecord(t, g, r.ReqID); !strings.Contains(rec.Raw, "no client certificate on the connection") {
			t.Fatalf("TLS without a certificate: %s", rec.Raw)
		}
		checkRefusal(t, g, do(t, withB, "GET", g.ProxyTLSURL+"/mtls", authz(bound, "X-Client-Cert", spoof)), 401, "OAUTH_MTLS_CERT_MISMATCH", "Bearer ")
		r = get(t, g, "/mtls", "Authorization", "Bearer "+bound, "X-Client-Cert", spoof)
		checkRefusal(t, g, r, 401, "OAUTH_MTLS_CERT_MISSING", "Bearer ")
		if rec := errorLogRecord(t, g, r.ReqID); !strings.Contains(rec.Raw, "no client certificate on the connection") {
			t.Fatalf("plain HTTP: %s", rec.Raw)
		}
		// Unbound tokens pass in optional mode, not in strict mode.
		if r := do(t, without, "GET", g.ProxyTLSURL+"/mtls", authz(unbound)); r.Status != 200 {
			t.Fatalf("unbound token, optional: %d %s", r.Status, r.Body)
		}
		checkRefusal(t, g, do(t, withA, "GET", g.ProxyTLSURL+"/mtls-strict", authz(unbound)), 401, "OAUTH_MTLS_TOKEN_NOT_BOUND", "Bearer ")
		if r := do(t, withA, "GET", g.ProxyTLSURL+"/mtls-strict", authz(bound)); r.Status != 200 {
			t.Fatalf("strict, bound: %d %s", r.Status, r.Body)
		}
	})

	t.Run("dpop", func(t *testing.T) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s, err := dpop.NewSigner(k, "")
		if err != nil {
			t.Fatal(err)
		}
		tok := as.mint(t, claims(prov.issuer(), "cnf", obj{"jkt": s.Thumbprint()}))
		proof := func(method, uri, nonce string) string {
			p, err := s.Proof(method, uri, tok, nonce)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		direct := popClient(ca, nil, "")
		uri := g.ProxyTLSURL + "/dpop"
		p := proof("GET", uri, "")
		r := do(t, direct, "GET", uri+"?page=2", hdr("Authorization", "DPoP "+tok, "DPoP", p))
		if r.Status != 200 {
			t.Fatalf("DPoP over TLS: %d %s", r.Status, r.Body)
		}
		checkRefusal(t, g, do(t, direct, "GET", uri, hdr("Authorization", "DPoP "+tok, "DPoP", p)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "DPoP ")
		checkRefusal(t, g, do(t, direct, "GET", uri, hdr("Authorization", "Bearer "+tok)), 401, "OAUTH_DPOP_DOWNGRADE", "DPoP ")
		r = do(t, direct, "POST", uri, hdr("Authorization", "DPoP "+tok, "DPoP", proof("GET", uri, "")))
		checkRefusal(t, g, r, 401, "OAUTH_DPOP_HTM_MISMATCH", "DPoP ")

		// Behind a load balancer (127.0.0.2, in trusted_ips) the URI is the
		// one the client addressed, from X-Forwarded-Proto/-Host/-Port.
		lbURI := "https://api.example.test/dpop"
		fwd := func(p string) http.Header {
			return hdr("Authorization", "DPoP "+tok, "DPoP", p, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example.test", "X-Forwarded-Port", "443")
		}
		lb := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
		if r := do(t, lb, "GET", g.ProxyURL+"/dpop", fwd(proof("GET", lbURI, ""))); r.Status != 200 {
			t.Fatalf("DPoP behind a trusted load balancer: %d %s", r.Status, r.Body)
		}
		// The same headers from an untrusted client are ignored: the URI
		// is Kong's own, and the proof made for the forwarded one fails.
		r = do(t, &http.Client{Timeout: 20 * time.Second}, "GET", g.ProxyURL+"/dpop", fwd(proof("GET", lbURI, "")))
		checkRefusal(t, g, r, 401, "OAUTH_DPOP_HTU_MISMATCH", "DPoP ")
		if rec := errorLogRecord(t, g, r.ReqID); !strings.Contains(rec.Raw, `http://127.0.0.1`) {
			t.Fatalf("the log should show Kong's own URI: %s", rec.Raw)
		}

		// No token: both challenges, in one WWW-Authenticate value (Kong
		// passes only the last of several lines).
		r = do(t, direct, "GET", uri, nil)
		if ch := r.Header.Values("WWW-Authenticate"); r.Status != 401 || len(ch) != 1 || ch[0] != `Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"` {
			t.Fatalf("no token: %d %q", r.Status, ch)
		}
	})

	t.Run("dpop-nonce", func(t *testing.T) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		s, _ := dpop.NewSigner(k, "")
		tok := as.mint(t, claims(prov.issuer(), "cnf", obj{"jkt": s.Thumbprint()}))
		direct := popClient(ca, nil, "")
		uri := g.ProxyTLSURL + "/dpop-nonce"
		send := func(nonce string) *response {
			p, err := s.Proof("GET", uri, tok, nonce)
			if err != nil {
				t.Fatal(err)
			}
			return do(t, direct, "GET", uri, hdr("Authorization", "DPoP "+tok, "DPoP", p))
		}
		r := send("")
		checkRefusal(t, g, r, 401, "OAUTH_DPOP_NONCE_REQUIRED", `DPoP realm="api", error="use_dpop_nonce"`)
		nonce := r.Header.Get("DPoP-Nonce")
		if nonce == "" {
			t.Fatal("no DPoP-Nonce in the use_dpop_nonce answer")
		}
		if r := send(nonce); r.Status != 200 {
			t.Fatalf("with the nonce: %d %s", r.Status, r.Body)
		}
		// Nonces rotate every dpop_proof_lifetime (1 s here). Through the
		// next period the old nonce still works, and the answers — proxied
		// from the upstream, the header set in the access phase — carry the
		// next one.
		deadline := time.Now().Add(3 * time.Second)
		next := ""
		for next == "" && time.Now().Before(deadline) {
			r := send(nonce)
			if r.Status != 200 {
				t.Fatalf("the nonce within its two periods: %d %s", r.Status, r.Body)
			}
			next = r.Header.Get("DPoP-Nonce")
			time.Sleep(100 * time.Millisecond)
		}
		if next == "" || next == nonce {
			t.Fatalf("a success after a rotation carries the new nonce: %q (old %q)", next, nonce)
		}
		if r := send(next); r.Status != 200 {
			t.Fatalf("with the new nonce: %d %s", r.Status, r.Body)
		}
	})
}

// checkRefusal checks status, code and that a WWW-Authenticate starts as
// given, and that error.log has the record.
func checkRefusal(t testing.TB, g *realkong.Gateway, r *response, status int, code, challengePrefix string) {
	t.Helper()
	if r.Status != status || r.bodyCode() != code {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	ok := false
	for _, ch := range r.Header.Values("WWW-Authenticate") {
		if strings.HasPrefix(ch, challengePrefix) && strings.Contains(ch, `error_code="`+code+`"`) {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("%s: challenge %q, want one starting %q with the code", code, r.Header.Values("WWW-Authenticate"), challengePrefix)
	}
	if rec := errorLogRecord(t, g, r.ReqID); rec.Record.Code != code {
		t.Fatalf("error.log record %s, want %s", rec.Record.Code, code)
	}
}
