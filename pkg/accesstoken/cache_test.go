package accesstoken

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// A hit skips the crypto; its one lookup in the key set (in memory) only
// checks that the kid still names the key that verified the token.
func TestCacheHitSkipsKeysAndCrypto(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	v, sigs := newTestVerifier(t, src, nil)
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil)
	c1, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Error("second verification did not come from the cache")
	}
	if src.calls.Load() != 2 || sigs.Load() != 1 {
		t.Fatalf("lookups %d, signature checks %d; want 2 and 1", src.calls.Load(), sigs.Load())
	}
}

func TestCacheOff(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	v, sigs := newTestVerifier(t, src, func(o *VerifierOptions) { o.CacheSize = -1 })
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil)
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if src.calls.Load() != 3 || sigs.Load() != 3 {
		t.Fatalf("lookups %d, signature checks %d; want 3", src.calls.Load(), sigs.Load())
	}
}

// An entry lives until exp and not a moment longer.
func TestCacheExpiresAtExp(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	clk := newClock(t0)
	v, sigs := newTestVerifier(t, src, func(o *VerifierOptions) { o.Now = clk.Now })
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(baseClaims(), "exp", t0.Add(time.Minute).Unix()), nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute - time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil || sigs.Load() != 1 {
		t.Fatalf("before exp: err %v, signature checks %d", err, sigs.Load())
	}
	clk.Advance(time.Second) // now == exp
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, errcode.TokenExpired) {
		t.Fatalf("at exp: err = %v", err)
	}
	if src.calls.Load() != 3 || sigs.Load() != 2 {
		t.Fatalf("at exp the entry must be gone: lookups %d, signature checks %d", src.calls.Load(), sigs.Load())
	}
}

// A hit re-runs the time checks with the current time: even an entry that
// somehow outlives exp (here: the cache's own clock is frozen) answers
// TOKEN_EXPIRED, without touching keys or crypto.
func TestCacheHitRechecksTime(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	clk := newClock(t0)
	v, sigs := newTestVerifier(t, src, func(o *VerifierOptions) { o.Now = clk.Now })
	v.cache.m.SetClock(func() time.Time { return t0 })
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, errcode.TokenExpired) {
		t.Fatalf("err = %v, want TokenExpired", err)
	}
	if src.calls.Load() != 2 || sigs.Load() != 1 {
		t.Fatalf("the expiry must be found in the cache: lookups %d, signature checks %d", src.calls.Load(), sigs.Load())
	}
}

// The max-age limit can pass while the entry is still live.
func TestCacheHitChecksMaxAge(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	clk := newClock(t0)
	v, _ := newTestVerifier(t, src, func(o *VerifierOptions) {
		o.Now = clk.Now
		o.Policy = mustPolicy(t, PolicyOptions{MaxTokenAge: 90 * time.Second})
	})
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil) // iat = t0-60s
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, errcode.TokenTooOld) {
		t.Fatalf("err = %v, want TokenTooOld", err)
	}
	if src.calls.Load() != 2 {
		t.Fatalf("lookups %d", src.calls.Load())
	}
}

// TestCacheHitNeedsTheSameKey: the verdict depends on the key, so the
// cache key's rule (issue 11, item 1) extends to it: once the key set no
// longer has the key that verified a token, the cached verdict is not
// served (main served it until exp). A refresh that re-parses the same key
// keeps the entry.
func TestCacheHitNeedsTheSameKey(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	v, sigs := newTestVerifier(t, src, nil)
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", baseClaims(), nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	reparsed := *src.keys["rsa"]
	src.keys["rsa"] = &reparsed
	if _, err := v.Verify(context.Background(), tok); err != nil || sigs.Load() != 1 {
		t.Fatalf("same key, new pointer: err %v, signature checks %d", err, sigs.Load())
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	src.keys["rsa"] = &jwks.Key{ID: "rsa", Type: "RSA", Public: &other.PublicKey} // kid reused for another key
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, errcode.SignatureInvalid) {
		t.Fatalf("kid now names another key: err %v", err)
	}
	delete(src.keys, "rsa") // withdrawn
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, errcode.KeyNotFound) {
		t.Fatalf("withdrawn key: err %v", err)
	}
}

// Refused tokens are never cached.
func TestCacheOnlyHoldsAcceptedTokens(t *testing.T) {
	k := tk(t)
	src := newSource(k)
	v, sigs := newTestVerifier(t, src, nil)
	for _, tok := range []string{
		sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with(baseClaims(), "iss", "x"), nil),
		sign(t, jwt.SigningMethodRS256, k.rsaOther, "rsa", baseClaims(), nil),
	} {
		for range 2 {
			if _, err := v.Verify(context.Background(), tok); err == nil {
				t.Fatal("accepted")
			}
		}
	}
	if v.cache.m.Len() != 0 || sigs.Load() != 4 {
		t.Fatalf("cache len %d, signature checks %d", v.cache.m.Len(), sigs.Load())
	}
}

func TestCacheBounded(t *testing.T) {
	k := tk(t)
	v, _ := newTestVerifier(t, newSource(k), func(o *VerifierOptions) { o.CacheSize = 3 })
	for i := range 10 {
		tok := sign(t, jwt.SigningMethodES256, k.p256, "p256", with(baseClaims(), "jti", fmt.Sprint(i)), nil)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.cache.m.Len(); n > 3 {
		t.Fatalf("cache holds %d entries, bound 3", n)
	}
}

// N concurrent verifications of one cold token do one key lookup and one
// signature check; failures are shared too, each caller with its own copy.
func TestSingleflight(t *testing.T) {
	k := tk(t)
	for _, tc := range []struct {
		name    string
		signer  any
		wantErr error
	}{{"valid", k.rsa, nil}, {"bad signature", k.rsaOther, errcode.SignatureInvalid}} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(k)
			src.gate = make(chan struct{})
			v, sigs := newTestVerifier(t, src, nil)
			tok := sign(t, jwt.SigningMethodRS256, tc.signer, "rsa", baseClaims(), nil)
			const n = 32
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { _, errs[i] = v.Verify(context.Background(), tok) })
			}
			for src.calls.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // let the others join the flight
			close(src.gate)
			wg.Wait()
			// The callers share one error value (singleflight); each
			// decorates it through With, which copies (issue 18: -race
			// catches a write into the shared value).
			wg = sync.WaitGroup{}
			for i, err := range errs {
				if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v", err)
				}
				if err != nil {
					wg.Go(func() {
						if e := errcode.From(err).With("request", i); e.Field("request") != i {
							t.Errorf("request %d: field %v", i, e.Field("request"))
						}
					})
				}
			}
			wg.Wait()
			if tc.wantErr != nil && errcode.From(errs[0]).Field("request") != nil {
				t.Fatal("With wrote into the shared error")
			}
			if tc.wantErr == nil && (src.calls.Load() != 1 || sigs.Load() != 1) {
				t.Fatalf("lookups %d, signature checks %d; want 1", src.calls.Load(), sigs.Load())
			}
		})
	}
}
