package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/passwd"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		scheme string
	}{
		{nil, passwd.SchemeArgon2id},
		{[]string{"--algorithm", "argon2id"}, passwd.SchemeArgon2id},
		{[]string{"--algorithm", "bcrypt", "--cost", "4"}, passwd.SchemeBcrypt},
		{[]string{"--algorithm", "pbkdf2-sha256", "--iterations", "1000"}, passwd.SchemePBKDF2SHA256},
	} {
		t.Run(tc.scheme+strings.Join(tc.args, ""), func(t *testing.T) {
			// Only the first line is the password, with LF or CRLF.
			for _, stdin := range []string{"s3cret pässword\n", "s3cret pässword\r\nsecond line\n", "s3cret pässword"} {
				out, errOut, code := cli(t, stdin, append([]string{"hash", "password"}, tc.args...)...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if strings.Count(out, "\n") != 1 || strings.Contains(out, "s3cret") {
					t.Fatalf("output must be the hash alone: %q", out)
				}
				h, err := passwd.Parse(strings.TrimSpace(out))
				if err != nil {
					t.Fatal(err)
				}
				if h.Scheme() != tc.scheme || !h.Verify([]byte("s3cret pässword")) || h.Verify([]byte("s3cret pässword\n")) || h.Verify([]byte("wrong")) {
					t.Errorf("%s: scheme %s or verification wrong", out, h.Scheme())
				}
			}
		})
	}
	out, _, code := cli(t, "pw\n", "hash", "password", "--json", "--algorithm", "bcrypt", "--cost", "4")
	var j struct{ Algorithm, Hash string }
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Algorithm != "bcrypt" || !passwd.MustParse(j.Hash).Verify([]byte("pw")) {
		t.Errorf("json: %d %q", code, out)
	}
	if c, _ := passwd.MustParse(j.Hash).BcryptCost(); c != 4 {
		t.Errorf("cost %d", c)
	}
}

func TestHashPasswordErrors(t *testing.T) {
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
	}{
		{"", nil, 1},
		{"\n", nil, 1},
		{"pw\n", []string{"--algorithm", "md5"}, 2},
		{"pw\n", []string{"--algorithm", "bcrypt", "--cost", "99"}, 1},
		{strings.Repeat("x", 73) + "\n", []string{"--algorithm", "bcrypt", "--cost", "4"}, 1}, // bcrypt's 72-byte limit
		{strings.Repeat("x", 5000), nil, 1},
		{"pw\n", []string{"extra-arg"}, 2},
	} {
		out, errOut, code := cli(t, tc.stdin, append([]string{"hash", "password"}, tc.args...)...)
		if code != tc.code || out != "" || errOut == "" {
			t.Errorf("%v (stdin %d bytes): exit %d, out %q, err %q", tc.args, len(tc.stdin), code, out, errOut)
		}
	}
}

func TestHashKey(t *testing.T) {
	out, errOut, code := cli(t, "", "hash", "key", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var j struct{ Key, Hash, Fingerprint string }
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(j.Key, KeyPrefix))
	if !strings.HasPrefix(j.Key, KeyPrefix) || err != nil || len(raw) != 32 {
		t.Fatalf("key %q: %v", j.Key, err)
	}
	sum := sha256.Sum256([]byte(j.Key))
	if j.Hash != "sha256:"+hex.EncodeToString(sum[:]) || j.Fingerprint != secret.Fingerprint(j.Key) {
		t.Errorf("hash %s fingerprint %s", j.Hash, j.Fingerprint)
	}
	// Hashing the same key from stdin gives the same hash, without echoing the key.
	out2, _, code := cli(t, j.Key+"\n", "hash", "key", "--key", "-")
	if code != 0 || !strings.Contains(out2, j.Hash) || strings.Contains(out2, j.Key) {
		t.Errorf("--key -: %d %q", code, out2)
	}
	// Human output: the key once, then hash and fingerprint; a reminder on stderr.
	out3, errOut3, _ := cli(t, "", "hash", "key")
	if strings.Count(out3, KeyPrefix) != 1 || !strings.Contains(out3, "hash:        sha256:") || !strings.Contains(errOut3, "cannot be shown again") {
		t.Errorf("human: %q %q", out3, errOut3)
	}
	if out, _, _ := cli(t, "", "hash", "key"); out == out3 {
		t.Error("two generated keys are equal")
	}
	if _, _, code := cli(t, "", "hash", "key", "--key", "ak_plain"); code != 2 {
		t.Errorf("a key on the command line must be refused, exit %d", code)
	}
	if _, _, code := cli(t, "", "hash", "key", "--key", "-"); code != 1 {
		t.Errorf("empty stdin: exit %d", code)
	}
}
