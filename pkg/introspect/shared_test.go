package introspect

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

func sharedStore(t testing.TB, srv *redistest.Server) *redisstore.Store {
	t.Helper()
	port := srv.Port
	prefix := fmt.Sprintf("it%d:", time.Now().UnixNano())
	strict := false
	set, err := redisstore.Compile("redis", redisstore.Config{Host: "127.0.0.1", Port: &port, KeyPrefix: &prefix}, &strict)
	if err != nil {
		t.Fatal(err)
	}
	st, err := redisstore.New(set)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// withOwnCache gives a Client its own process-local cache: two Clients in
// one test process stand for two gateway nodes.
func withOwnCache(t testing.TB) {
	t.Helper()
	old := answers
	fresh := newAnswerCache(1000, nil)
	answers = func() *answerCache { return fresh }
	t.Cleanup(func() { answers = old })
}

// TestSharedTierValues: what Redis holds is a keyed hash and a MACed
// value; a value forged or moved to another token's key is ignored.
func TestSharedTierValues(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	exp := time.Now().Add(time.Hour).Unix()
	p, ps := newProvider(t, jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d,"sub":"u","scope":"read","n":12345678901234567890}`, exp)))
	st := sharedStore(t, srv)
	withOwnCache(t)
	a := client(t, ps.URL, func(o *Options) { o.Shared = st })
	tok := freshToken()
	if _, _, err := a.Introspect(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	keys, _ := srv.Cmd("KEYS", "*")
	if strings.Contains(keys, tok) || strings.Count(keys, "\n") != 0 {
		t.Fatalf("keys %q", keys)
	}
	val, _ := srv.Cmd("GET", keys)
	if strings.Contains(val, tok) || !strings.Contains(val, `"sub":"u"`) {
		t.Fatalf("value %q", val)
	}
	// Another node (own cache) reads it instead of introspecting; the
	// claims have the types of a fresh answer.
	withOwnCache(t)
	b := client(t, ps.URL, func(o *Options) { o.Shared = st })
	ans, _, err := b.Introspect(context.Background(), tok)
	if err != nil || p.calls.Load() != 1 {
		t.Fatalf("calls %d, %v", p.calls.Load(), err)
	}
	if _, ok := ans.Claims["exp"].(float64); !ok || fmt.Sprintf("%T", ans.Claims["n"]) != "json.Number" {
		t.Fatalf("claim types %T %T", ans.Claims["exp"], ans.Claims["n"])
	}
	// Tampered: Redis write access alone cannot plant an answer.
	srv.Cmd("SET", keys, strings.Replace(val, `"sub":"u"`, `"sub":"admin"`, 1))
	withOwnCache(t)
	c := client(t, ps.URL, func(o *Options) { o.Shared = st })
	if ans, _, _ := c.Introspect(context.Background(), tok); ans.Claims["sub"] != "u" || p.calls.Load() != 2 {
		t.Fatalf("a forged value was used: %v, calls %d", ans.Claims, p.calls.Load())
	}
	// A client with another secret neither finds nor can read the answer.
	withOwnCache(t)
	d := client(t, ps.URL, func(o *Options) { o.Shared = st; o.ClientSecret = "other" })
	d.Introspect(context.Background(), tok)
	if p.calls.Load() != 3 {
		t.Fatalf("another client secret shared the answer: calls %d", p.calls.Load())
	}
}

// BenchmarkSharedTier: the warm path of one token, process-local cache
// only (policy local), with the shared tier and its 1 s local tier, and
// with the shared tier but no local tier (a Redis GET per request).
func BenchmarkSharedTier(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	exp := time.Now().Add(time.Hour).Unix()
	_, ps := newProvider(b, jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d,"sub":"u","scope":"read"}`, exp)))
	st := sharedStore(b, srv)
	for _, c := range []struct {
		name   string
		shared bool
		tier   time.Duration
	}{{"local", false, LocalTier}, {"redis-with-1s-local-tier", true, LocalTier}, {"redis-without-local-tier", true, 0}} {
		b.Run(c.name, func(b *testing.B) {
			localTier = c.tier
			defer func() { localTier = LocalTier }()
			cl := client(b, ps.URL, func(o *Options) {
				if c.shared {
					o.Shared = st
				}
			})
			tok := freshToken()
			ctx := context.Background()
			cl.Introspect(ctx, tok)
			gets := redisGets(b, srv)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := cl.Introspect(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(redisGets(b, srv)-gets)/float64(b.N), "redis-reads/op")
		})
	}
}

func redisGets(t testing.TB, srv *redistest.Server) int {
	info, _ := srv.Cmd("INFO", "commandstats")
	for _, l := range strings.Split(info, "\n") {
		if strings.HasPrefix(l, "cmdstat_get:calls=") {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(l, "cmdstat_get:calls="), ",", 2)[0], "\r"))
			return n
		}
	}
	return 0
}
