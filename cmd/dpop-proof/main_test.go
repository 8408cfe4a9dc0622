package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

// The helper's proofs pass the gateway's own checks (README's worked
// example).
func TestProofPassesTheVerifier(t *testing.T) {
	key := filepath.Join(t.TempDir(), "client.pem")
	if err := run([]string{"-genkey", key}, nil); err != nil {
		t.Fatal(err)
	}
	var jkt, proof bytes.Buffer
	if err := run([]string{"-key", key, "-jkt"}, &jkt); err != nil {
		t.Fatal(err)
	}
	const tok = "the-token"
	if err := run([]string{"-key", key, "-method", "POST", "-url", "https://api.example.test/orders?x=1", "-token", tok}, &proof); err != nil {
		t.Fatal(err)
	}
	v, err := dpop.NewVerifier(dpop.Options{Leeway: time.Second, Replay: dpop.NewMemoryStore(10, 0)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Check(strings.TrimSpace(proof.String()), dpop.Request{Method: "POST", URI: "https://api.example.test/orders", AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	if err := dpop.Bind(p, strings.TrimSpace(jkt.String())); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-key", key}, &proof); err == nil {
		t.Fatal("no -url accepted")
	}
}
