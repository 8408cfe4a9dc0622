package accesstoken

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const benchTokens = 256

// benchSet pre-signs distinct tokens (distinct jti) with one key, valid now.
func benchSet(b *testing.B, m jwt.SigningMethod, key any, kid string) []string {
	return benchSetN(b, m, key, kid, benchTokens)
}

func benchSetN(b *testing.B, m jwt.SigningMethod, key any, kid string, n int) []string {
	b.Helper()
	now := time.Now()
	toks := make([]string, n)
	for i := range toks {
		toks[i] = sign(b, m, key, kid, jwt.MapClaims{
			"iss": iss, "sub": "user-1", "aud": "api://orders", "client_id": "app-1",
			"scope": "orders:read orders:write", "jti": fmt.Sprint("id-", i),
			"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		}, nil)
	}
	return toks
}

func benchVerifier(b *testing.B, cacheSize int) *Verifier {
	b.Helper()
	v, err := NewVerifier(VerifierOptions{Keys: newSource(tk(b)), Policy: testPolicy(b), RequireTypATJWT: true, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func benchCold(b *testing.B, m jwt.SigningMethod, key any, kid string) {
	toks := benchSet(b, m, key, kid)
	v := benchVerifier(b, -1) // cache off: every iteration does the full work
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := v.Verify(ctx, toks[i%benchTokens]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchRaw is the baseline: golang-jwt's own parser with the same key and
// tokens, validating exp/iat like it does by default.
func benchRaw(b *testing.B, m jwt.SigningMethod, key, pub any, kid string) {
	toks := benchSet(b, m, key, kid)
	p := jwt.NewParser(jwt.WithValidMethods([]string{m.Alg()}))
	kf := func(*jwt.Token) (any, error) { return pub, nil }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Parse(toks[i%benchTokens], kf); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkVerifyCold(b *testing.B) {
	k := tk(b)
	benchCold(b, jwt.SigningMethodRS256, k.rsa, "rsa")
}

func BenchmarkJWTParseRaw(b *testing.B) {
	k := tk(b)
	benchRaw(b, jwt.SigningMethodRS256, k.rsa, &k.rsa.PublicKey, "rsa")
}

func BenchmarkVerifyColdES256(b *testing.B) {
	k := tk(b)
	benchCold(b, jwt.SigningMethodES256, k.p256, "p256")
}

func BenchmarkJWTParseRawES256(b *testing.B) {
	k := tk(b)
	benchRaw(b, jwt.SigningMethodES256, k.p256, &k.p256.PublicKey, "p256")
}

// BenchmarkVerifyColdCached: distinct tokens through the default cache, so
// the cost of filling (and, past 10,000, evicting) is included.
func BenchmarkVerifyColdCached(b *testing.B) {
	k := tk(b)
	toks := benchSet(b, jwt.SigningMethodRS256, k.rsa, "rsa")
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	var v *Verifier
	for b.Loop() {
		if i%benchTokens == 0 {
			v = benchVerifier(b, 0) // a fresh cache, so every token is cold
		}
		if _, err := v.Verify(ctx, toks[i%benchTokens]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkVerifyWarm(b *testing.B) {
	k := tk(b)
	tok := benchSetN(b, jwt.SigningMethodRS256, k.rsa, "rsa", 1)[0]
	v := benchVerifier(b, 0)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyWarmParallel(b *testing.B) {
	k := tk(b)
	tok := benchSetN(b, jwt.SigningMethodRS256, k.rsa, "rsa", 1)[0]
	v := benchVerifier(b, 0)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkParseHeader(b *testing.B) {
	seg := b64(`{"alg":"RS256","kid":"rsa","typ":"at+jwt"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(seg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdOverRaw interleaves Verify (cache off) and golang-jwt's
// Parse on the same tokens, alternating which goes first, and reports the
// ratio of their median times: on a shared, noisy machine that is far more
// stable than comparing two separate benchmarks.
func BenchmarkColdOverRaw(b *testing.B) {
	k := tk(b)
	for _, tc := range []struct {
		name     string
		m        jwt.SigningMethod
		key, pub any
		kid      string
	}{
		{"RS256", jwt.SigningMethodRS256, k.rsa, &k.rsa.PublicKey, "rsa"},
		{"ES256", jwt.SigningMethodES256, k.p256, &k.p256.PublicKey, "p256"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			toks := benchSet(b, tc.m, tc.key, tc.kid)
			v := benchVerifier(b, -1)
			p := jwt.NewParser(jwt.WithValidMethods([]string{tc.m.Alg()}))
			kf := func(*jwt.Token) (any, error) { return tc.pub, nil }
			ctx := context.Background()
			ours := func(tok string) time.Duration {
				t := time.Now()
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				return time.Since(t)
			}
			theirs := func(tok string) time.Duration {
				t := time.Now()
				if _, err := p.Parse(tok, kf); err != nil {
					b.Fatal(err)
				}
				return time.Since(t)
			}
			var a, c []time.Duration
			i := 0
			for b.Loop() {
				tok := toks[i%benchTokens]
				if i%2 == 0 {
					a = append(a, ours(tok))
					c = append(c, theirs(tok))
				} else {
					c = append(c, theirs(tok))
					a = append(a, ours(tok))
				}
				i++
			}
			b.ReportMetric(float64(median(a))/float64(median(c)), "cold/raw")
		})
	}
}

// BenchmarkColdOverWarm reports how many times cheaper a cache hit is than
// a cold RS256 verification (ratio of medians, interleaved).
func BenchmarkColdOverWarm(b *testing.B) {
	k := tk(b)
	toks := benchSet(b, jwt.SigningMethodRS256, k.rsa, "rsa")
	cold := benchVerifier(b, -1)
	warm := benchVerifier(b, 0)
	ctx := context.Background()
	if _, err := warm.Verify(ctx, toks[0]); err != nil {
		b.Fatal(err)
	}
	var tc, tw []time.Duration
	i := 0
	for b.Loop() {
		t1 := time.Now()
		if _, err := cold.Verify(ctx, toks[i%benchTokens]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		for range 16 {
			if _, err := warm.Verify(ctx, toks[0]); err != nil {
				b.Fatal(err)
			}
		}
		tc, tw = append(tc, t2.Sub(t1)), append(tw, time.Since(t2)/16)
		i++
	}
	b.ReportMetric(float64(median(tc))/float64(median(tw)), "cold/warm")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 1
	}
	slices.Sort(d)
	return d[len(d)/2]
}
