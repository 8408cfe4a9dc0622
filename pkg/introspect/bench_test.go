package introspect

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// BenchmarkConcurrentNewToken: 100 concurrent requests carrying one new
// opaque token; reports introspection calls per 100 requests (want 1).
func BenchmarkConcurrentNewToken(b *testing.B) {
	exp := time.Now().Add(time.Hour).Unix()
	p, srv := newProvider(b, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp))(w, r)
	})
	c := client(b, srv.URL, func(o *Options) { o.HTTP = provider.New(5 * time.Second) })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok := freshToken()
		var wg sync.WaitGroup
		for j := 0; j < 100; j++ {
			wg.Add(1)
			go func() { defer wg.Done(); c.Introspect(context.Background(), tok) }()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(p.calls.Load())/float64(b.N), "calls/100req")
}

// BenchmarkWarm vs BenchmarkRoundTrip: a cached answer against a real HTTP
// round trip to a local provider.
func BenchmarkWarm(b *testing.B) {
	exp := time.Now().Add(time.Hour).Unix()
	_, srv := newProvider(b, jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp)))
	c := client(b, srv.URL)
	tok := freshToken()
	c.Introspect(context.Background(), tok)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, cached, _ := c.Introspect(context.Background(), tok); !cached {
			b.Fatal("miss")
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	exp := time.Now().Add(time.Hour).Unix()
	_, srv := newProvider(b, jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp)))
	c := client(b, srv.URL, func(o *Options) { o.CacheTTL = 0 })
	tok := freshToken()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, cached, err := c.Introspect(context.Background(), tok); cached || err != nil {
			b.Fatal(cached, err)
		}
	}
}
