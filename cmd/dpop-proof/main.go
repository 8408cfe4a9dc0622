// Command dpop-proof makes DPoP proofs (RFC 9449 §4.2) for trying
// authkit-oauth's proof_of_possession_dpop with curl:
//
//	dpop-proof -genkey client.pem                 # a new EC P-256 key
//	dpop-proof -key client.pem -jkt               # its RFC 7638 thumbprint (cnf.jkt)
//	dpop-proof -key client.pem -method GET -url https://api.example.test/orders -token "$TOKEN" [-nonce N]
//
// The proof goes to stdout, ready for `-H "DPoP: $(dpop-proof …)"`. Each
// call makes a new proof (random jti, iat now): a proof is good for one
// request. Keys are PEM files: EC (P-256/P-384/P-521), RSA (≥ 2048 bits)
// or Ed25519, in PKCS #8, SEC 1 or PKCS #1 form.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dpop-proof:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dpop-proof", flag.ContinueOnError)
	var (
		genkey  = fs.String("genkey", "", "write a new EC P-256 private key (PEM) to this file and exit")
		keyFile = fs.String("key", "", "the client's private key (PEM)")
		alg     = fs.String("alg", "", "JWS algorithm (default: ES256/ES384/ES512, RS256 or EdDSA by key; PS256… for RSA)")
		jkt     = fs.Bool("jkt", false, "print the key's RFC 7638 thumbprint (the cnf.jkt of tokens bound to it) and exit")
		method  = fs.String("method", "GET", "the request's HTTP method (htm)")
		uri     = fs.String("url", "", "the request's URL as the client sends it (htu; query and fragment are dropped)")
		token   = fs.String("token", "", "the access token sent with the proof (ath); - reads it from stdin")
		nonce   = fs.String("nonce", "", "the server's nonce (the last DPoP-Nonce header it sent)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *genkey != "" {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		return os.WriteFile(*genkey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	}
	if *keyFile == "" {
		return errors.New("-key is required (make one with -genkey)")
	}
	key, err := readKey(*keyFile)
	if err != nil {
		return err
	}
	s, err := dpop.NewSigner(key, *alg)
	if err != nil {
		return err
	}
	if *jkt {
		_, err := fmt.Fprintln(out, s.Thumbprint())
		return err
	}
	if *uri == "" {
		return errors.New("-url is required")
	}
	tok := *token
	if tok == "-" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
		if err != nil {
			return err
		}
		tok = strings.TrimSpace(string(b))
	}
	htu := *uri
	if i := strings.IndexAny(htu, "?#"); i >= 0 {
		htu = htu[:i] // RFC 9449 §4.2: htu without query and fragment
	}
	p, err := s.Proof(*method, htu, tok, *nonce)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, p)
	return err
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var k any
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not a signing key", path, k)
	}
	return s, nil
}
