package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// clientCert makes a self-signed client certificate and returns nginx's
// $ssl_client_escaped_cert of it and its x5t#S256.
func clientCert(t testing.TB, cn string) (escaped, x5t string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))), b64(sum[:])
}

func certReq(scheme, token, escapedCert string) *kongwire.Request {
	r := bearerReq(token)
	r.Scheme = scheme
	if escapedCert != "" {
		r.Headers.Set("X-Client-Cert", escapedCert)
	}
	return r
}

// TestMTLSBoundTokens: RFC 8705 §3 through the binary, with the
// certificate header as Kong's nginx sets it (real Kong: e2e TestMTLS).
func TestMTLSBoundTokens(t *testing.T) {
	issuer := newRSA(t, "as")
	p := newProvider(t, issuer)
	optional := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_mtls", "optional"))
	strict := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_mtls", "strict"))
	cert, x5t := clientCert(t, "client-a")
	otherCert, _ := clientCert(t, "client-b")
	bound := issuer.mint(t, claims(p.issuer(), "cnf", map[string]any{"x5t#S256": x5t}))
	unbound := issuer.mint(t, claims(p.issuer()))

	res := optional.Access(t, certReq("https", bound, cert))
	accepted(t, res)
	if _, ok := res.UpstreamHeaders["X-Client-Cert"]; ok {
		t.Fatal("the certificate header reached the upstream")
	}
	refused(t, optional.Access(t, certReq("https", bound, otherCert)), bound, 401, "OAUTH_MTLS_CERT_MISMATCH")
	refused(t, optional.Access(t, certReq("https", bound, "")), bound, 401, "OAUTH_MTLS_CERT_MISSING")
	// Over plain HTTP a certificate header can only be the client's own.
	refused(t, optional.Access(t, certReq("http", bound, cert)), bound, 401, "OAUTH_MTLS_CERT_MISSING", "ignored")
	refused(t, optional.Access(t, certReq("https", bound, "garbage")), bound, 401, "OAUTH_MTLS_CERT_MISSING")
	accepted(t, optional.Access(t, certReq("https", unbound, "")))

	refused(t, strict.Access(t, certReq("https", unbound, cert)), unbound, 401, "OAUTH_MTLS_TOKEN_NOT_BOUND")
	accepted(t, strict.Access(t, certReq("https", bound, cert)))

	// The header is cleared even when mTLS accepts an unbound token.
	r := certReq("https", unbound, cert)
	res = optional.Access(t, r)
	accepted(t, res)
	if _, ok := res.UpstreamHeaders["X-Client-Cert"]; ok {
		t.Fatal("the certificate header reached the upstream")
	}
}
