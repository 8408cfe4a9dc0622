package dpop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

var testReq = Request{Method: "GET", URI: "https://api.example.test/orders", AccessToken: "the-access-token"}

func newVerifier(t testing.TB, opts Options) *Verifier {
	t.Helper()
	if opts.Replay == nil {
		opts.Replay = NewMemoryStore(1000, 0)
	}
	if opts.Retention == nil {
		opts.Retention = NewRetention(opts.Now)
	}
	if opts.Leeway == 0 {
		opts.Leeway = 30 * time.Second
	}
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheckEveryKeyType(t *testing.T) {
	v := newVerifier(t, Options{})
	for _, k := range []*testKey{newES256(t), newRS256(t), newEdDSA(t)} {
		t.Run(k.alg, func(t *testing.T) {
			p, err := v.Check(k.proof(t, claims(testReq, time.Now())), testReq)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := jwks.ParsePublicKey(mustJSON(k.jwk))
			want, _ := Thumbprint(key)
			if p.Thumbprint != want || Bind(p, want) != nil {
				t.Fatalf("thumbprint %q, want %q", p.Thumbprint, want)
			}
			if err := v.Spend(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if err := v.Spend(context.Background(), p); !errors.Is(err, errcode.DPoPReplayed) {
				t.Fatalf("second use: %v", err)
			}
		})
	}
}

// TestCheckRefusals is RFC 9449 §4.3, one row per rule.
func TestCheckRefusals(t *testing.T) {
	es, rs := newES256(t), newRS256(t)
	now := time.Now()
	good := func(kv ...any) jwt.MapClaims { return claims(testReq, now, kv...) }
	goodHdr := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": es.jwk}
	// An HMAC proof "signed" with a secret: refused by alg before any MAC.
	hs := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
		tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", es.jwk
		h, _ := tok.SignedString([]byte("0123456789abcdef0123456789abcdef"))
		return h
	}
	sig := strings.Split(es.proof(t, good()), ".")
	priv := with(es.jwk, "d", "c2VjcmV0")

	for _, tc := range []struct {
		name  string
		proof string
		req   Request
		want  errcode.Code
	}{
		{"not a JWS", "abc", testReq, errcode.DPoPProofMalformed},
		{"four segments", "a.b.c.d", testReq, errcode.DPoPProofMalformed},
		{"header not base64url", "!!." + sig[1] + "." + sig[2], testReq, errcode.DPoPProofMalformed},
		{"header not JSON", b64.EncodeToString([]byte("[1]")) + "." + sig[1] + "." + sig[2], testReq, errcode.DPoPProofMalformed},
		{"crit", es.proof(t, good(), "crit", []string{"exp"}), testReq, errcode.DPoPProofMalformed},
		{"too long", strings.Repeat("a", MaxProofLen+1), testReq, errcode.DPoPProofMalformed},
		{"typ JWT", es.proof(t, good(), "typ", "JWT"), testReq, errcode.DPoPProofType},
		{"typ at+jwt", es.proof(t, good(), "typ", "at+jwt"), testReq, errcode.DPoPProofType},
		{"no typ", es.proof(t, good(), "typ", nil), testReq, errcode.DPoPProofType},
		{"alg none", raw(with(goodHdr, "alg", "none"), good(), nil), testReq, errcode.DPoPAlgorithm},
		{"alg HS256", hs(), testReq, errcode.DPoPAlgorithm},
		{"alg missing", raw(with(goodHdr, "alg", ""), good(), []byte{1}), testReq, errcode.DPoPAlgorithm},
		{"no jwk", es.proof(t, good(), "jwk", nil), testReq, errcode.DPoPKeyInvalid},
		{"jwk not an object", es.proof(t, good(), "jwk", "key"), testReq, errcode.DPoPKeyInvalid},
		{"private key in jwk", es.proof(t, good(), "jwk", priv), testReq, errcode.DPoPKeyInvalid},
		{"symmetric jwk", es.proof(t, good(), "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}), testReq, errcode.DPoPKeyInvalid},
		{"RSA jwk for ES256", es.proof(t, good(), "jwk", rs.jwk), testReq, errcode.DPoPKeyInvalid},
		{"bad signature", es.proof(t, good(), "jwk", newES256(t).jwk), testReq, errcode.DPoPSignatureInvalid},
		{"payload edited", sig[0] + "." + b64.EncodeToString(mustJSON(good("htm", "POST"))) + "." + sig[2], testReq, errcode.DPoPSignatureInvalid},
		{"no jti", es.proof(t, good("jti", nil)), testReq, errcode.DPoPProofMalformed},
		{"jti number", es.proof(t, good("jti", 7)), testReq, errcode.DPoPProofMalformed},
		{"no htm", es.proof(t, good("htm", nil)), testReq, errcode.DPoPProofMalformed},
		{"no htu", es.proof(t, good("htu", nil)), testReq, errcode.DPoPProofMalformed},
		{"no iat", es.proof(t, good("iat", nil)), testReq, errcode.DPoPProofMalformed},
		{"iat string", es.proof(t, good("iat", "1700000000")), testReq, errcode.DPoPProofMalformed},
		{"wrong method", es.proof(t, good("htm", "POST")), testReq, errcode.DPoPMethodMismatch},
		{"method case", es.proof(t, good("htm", "get")), testReq, errcode.DPoPMethodMismatch},
		{"wrong scheme", es.proof(t, good("htu", "http://api.example.test/orders")), testReq, errcode.DPoPURIMismatch},
		{"wrong host", es.proof(t, good("htu", "https://evil.example.test/orders")), testReq, errcode.DPoPURIMismatch},
		{"wrong port", es.proof(t, good("htu", "https://api.example.test:8443/orders")), testReq, errcode.DPoPURIMismatch},
		{"wrong path", es.proof(t, good("htu", "https://api.example.test/orders/1")), testReq, errcode.DPoPURIMismatch},
		{"trailing slash", es.proof(t, good("htu", "https://api.example.test/orders/")), testReq, errcode.DPoPURIMismatch},
		{"relative htu", es.proof(t, good("htu", "/orders")), testReq, errcode.DPoPURIMismatch},
		{"userinfo", es.proof(t, good("htu", "https://u:p@api.example.test/orders")), testReq, errcode.DPoPURIMismatch},
		{"too old", es.proof(t, good("iat", now.Add(-331*time.Second).Unix())), testReq, errcode.DPoPProofExpired},
		// 35 s, not 31: iat is whole seconds and the check runs later than
		// now, so 31 s could land within the 30 s leeway (a flake).
		{"future", es.proof(t, good("iat", now.Add(35*time.Second).Unix())), testReq, errcode.DPoPProofNotYetValid},
		{"no ath", es.proof(t, good("ath", nil)), testReq, errcode.DPoPATHMismatch},
		{"wrong ath", es.proof(t, good("ath", TokenHash("another-token"))), testReq, errcode.DPoPATHMismatch},
		{"ath of the token, padded", es.proof(t, good("ath", TokenHash(testReq.AccessToken)+"=")), testReq, errcode.DPoPATHMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, Options{})
			_, err := v.Check(tc.proof, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	es := newES256(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		htu  string
		hdr  []any
		kv   []any
	}{
		{"query and fragment ignored", "https://api.example.test/orders?x=1#frag", nil, nil},
		{"default port", "https://api.example.test:443/orders", nil, nil},
		{"upper-case scheme and host", "HTTPS://API.Example.TEST/orders", nil, nil},
		{"unreserved percent-encoding", "https://api.example.test/%6Frders", nil, nil},
		{"dot segments", "https://api.example.test/a/../orders", nil, nil},
		{"typ with application/", "https://api.example.test/orders", []any{"typ", "application/DPoP+JWT"}, nil},
		{"fractional iat", "https://api.example.test/orders", nil, []any{"iat", float64(now.Unix()) + 0.5}},
		{"iat within the leeway ahead", "https://api.example.test/orders", nil, []any{"iat", now.Add(20 * time.Second).Unix()}},
		{"iat at the end of the window", "https://api.example.test/orders", nil, []any{"iat", now.Add(-320 * time.Second).Unix()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, Options{})
			c := claims(testReq, now, append([]any{"htu", tc.htu}, tc.kv...)...)
			if _, err := v.Check(es.proof(t, c, tc.hdr...), testReq); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAlgorithmsAllowList(t *testing.T) {
	ed := newEdDSA(t)
	v := newVerifier(t, Options{Algorithms: []string{"ES256"}})
	if _, err := v.Check(ed.proof(t, claims(testReq, time.Now())), testReq); !errors.Is(err, errcode.DPoPAlgorithm) {
		t.Fatalf("EdDSA not in the list: %v", err)
	}
	for _, bad := range [][]string{{"none"}, {"HS256"}, {"ES256", "hs512"}, {"XX1"}} {
		if _, err := NewVerifier(Options{Algorithms: bad}); err == nil {
			t.Errorf("%v compiled", bad)
		}
	}
	if got := Asymmetric([]string{"HS256", "ES256", "RS256", "ES256"}); strings.Join(got, ",") != "ES256,RS256" {
		t.Fatalf("Asymmetric: %v", got)
	}
}

func TestBind(t *testing.T) {
	p := &Proof{Thumbprint: "abc"}
	if !errors.Is(Bind(p, ""), errcode.DPoPTokenNotBound) || !errors.Is(Bind(p, "abd"), errcode.DPoPKeyMismatch) || Bind(p, "abc") != nil {
		t.Fatal("Bind")
	}
}

// RFC 7638 §3.1's example key and its thumbprint.
func TestThumbprintRFC7638(t *testing.T) {
	k, err := jwks.ParsePublicKey([]byte(`{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(k)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("thumbprint %q, %v", got, err)
	}
}

func TestNormalizeURI(t *testing.T) {
	for in, want := range map[string]string{
		"https://API.example.test":                "https://api.example.test/",
		"http://h:80/a":                           "http://h/a",
		"http://h:8080/a":                         "http://h:8080/a",
		"https://h:0443/a":                        "https://h/a",
		"https://h/a%2fb":                         "https://h/a%2Fb",
		"https://h/%7euser/./x/../y":              "https://h/~user/y",
		"https://h//double":                       "https://h//double",
		"https://[::1]:8443/p?q#f":                "https://[::1]:8443/p",
		"https://h/a%20b":                         "https://h/a%20b",
		"https://h/../../a":                       "https://h/a",
		"https://h/a/.":                           "https://h/a/",
		"https://h/a/..":                          "https://h/",
		"https://h/%41%42%2D%5F%2E%7E%25%3a%2Fok": "https://h/AB-_.~%25%3A%2Fok",
	} {
		got, err := NormalizeURI(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://h/", "/p", "https:///p", "https://u@h/p", "https://h:99999/p", "mailto:a@b"} {
		if got, err := NormalizeURI(bad); err == nil {
			t.Errorf("NormalizeURI(%q) = %q, want an error", bad, got)
		}
	}
	if got := BuildURI("https", "::1", "443", "/a/./b"); got != "https://[::1]/a/b" {
		t.Fatalf("BuildURI: %q", got)
	}
	for in, want := range map[string]string{"/a?b=1": "/a", "/": "/", "http://h/x?y": "/x", "": ""} {
		if got := RequestPath(in); got != want {
			t.Errorf("RequestPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNonceFlow(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) { testNonceFlow(t, shared) })
	}
}

func current(t *testing.T, n *Nonces) string {
	t.Helper()
	c, err := n.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testNonceFlow(t *testing.T, shared bool) {
	es := newES256(t)
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	n := NewNonces([]byte("secret-secret-secret-secret-0123"), 60*time.Second, now)
	other := NewNonces([]byte("another-secret-another-secret-01"), 60*time.Second, now)
	if shared {
		n, other = n.Shared(newFakeKeys()), other.Shared(newFakeKeys())
	}
	v := newVerifier(t, Options{Nonces: n, Now: now})
	ctx := context.Background()

	_, err := v.Check(es.proof(t, claims(testReq, now())), testReq)
	var e *errcode.Error
	if !errors.As(err, &e) || e.Code != errcode.DPoPNonceRequired {
		t.Fatalf("no nonce: %v", err)
	}
	var nonce string
	for k, val := range e.Headers() {
		if k == "DPoP-Nonce" {
			nonce = val
		}
	}
	if nonce == "" || nonce != current(t, n) {
		t.Fatalf("DPoP-Nonce %q", nonce)
	}
	p, err := v.Check(es.proof(t, claims(testReq, now(), "nonce", nonce)), testReq)
	if err != nil {
		t.Fatal(err)
	}
	if v.NextNonce(ctx, p) != "" {
		t.Fatal("the current nonce needs no new one")
	}
	// One period later the nonce is still accepted, and a new one offered.
	mu.Lock()
	clock = clock.Add(60 * time.Second)
	mu.Unlock()
	if p, err = v.Check(es.proof(t, claims(testReq, now(), "nonce", nonce)), testReq); err != nil {
		t.Fatal(err)
	}
	if next := v.NextNonce(ctx, p); next == "" || next == nonce {
		t.Fatalf("next nonce %q", next)
	}
	// Two periods later it is stale.
	mu.Lock()
	clock = clock.Add(61 * time.Second)
	mu.Unlock()
	if _, err = v.Check(es.proof(t, claims(testReq, now(), "nonce", nonce)), testReq); !errors.Is(err, errcode.DPoPNonceInvalid) {
		t.Fatalf("stale nonce: %v", err)
	}
	// A nonce of another secret, and garbage, are invalid.
	for _, bad := range []string{current(t, other), "x", strings.Repeat("A", 32)} {
		if _, err = v.Check(es.proof(t, claims(testReq, now(), "nonce", bad)), testReq); !errors.Is(err, errcode.DPoPNonceInvalid) {
			t.Fatalf("nonce %q: %v", bad, err)
		}
	}
}

// N concurrent uses of one proof: exactly one wins.
func TestSpendConcurrent(t *testing.T) {
	es := newES256(t)
	v := newVerifier(t, Options{})
	p, err := v.Check(es.proof(t, claims(testReq, time.Now())), testReq)
	if err != nil {
		t.Fatal(err)
	}
	var ok, replayed atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := v.Spend(context.Background(), p); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, errcode.DPoPReplayed):
				replayed.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 63 {
		t.Fatalf("%d accepted, %d replayed", ok.Load(), replayed.Load())
	}
}

func TestMemoryStoreBoundedAndExpiring(t *testing.T) {
	s := NewMemoryStore(shards*4, shards*4) // 4 per shard
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	ctx := context.Background()
	full := 0
	for i := range 10_000 {
		if _, err := s.FirstSeen(ctx, "k", ReplayKey("k", string(rune(i))+"x"), time.Minute); errors.Is(err, ErrStoreFull) {
			full++
		}
	}
	if s.Len() != shards*4 || full != 10_000-shards*4 {
		t.Fatalf("len %d, refused %d", s.Len(), full)
	}
	clock = clock.Add(time.Minute)
	first, err := s.FirstSeen(ctx, "k", ReplayKey("k", "new"), time.Minute)
	if err != nil || !first {
		t.Fatalf("after expiry: %v %v", first, err)
	}
	// The FIFO of every shard is drained as it is used.
	for i := range 10_000 {
		s.FirstSeen(ctx, "k2", ReplayKey("k2", string(rune(i))), time.Second)
	}
	if n := s.Len(); n > shards*4 {
		t.Fatalf("len %d", n)
	}
	// A key recorded again after expiry stays recorded.
	k := ReplayKey("k3", "j")
	clock = clock.Add(time.Hour)
	if f, _ := s.FirstSeen(ctx, "k3", k, time.Second); !f {
		t.Fatal("first")
	}
	clock = clock.Add(2 * time.Second)
	if f, _ := s.FirstSeen(ctx, "k3", k, time.Minute); !f {
		t.Fatal("after expiry")
	}
	if f, _ := s.FirstSeen(ctx, "k3", k, time.Minute); f {
		t.Fatal("replay after re-recording")
	}
}

func TestReplayKeyDelimits(t *testing.T) {
	if ReplayKey("ab", "c") == ReplayKey("a", "bc") || len(ReplayKey("a", "b")) != 37 {
		t.Fatal("ReplayKey")
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
