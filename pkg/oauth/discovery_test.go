package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// TestDiscoveryMinRefreshUnderConcurrency: with the provider failing, waves
// of concurrent requests fetch the discovery document at most once per
// minRefresh. The check of the last attempt and the fetch were not atomic:
// a caller that read the state just before a flight ended started a
// second one at once.
func TestDiscoveryMinRefreshUnderConcurrency(t *testing.T) {
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		time.Sleep(5 * time.Millisecond)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	d := &discovered{issuer: srv.URL, client: provider.New(time.Second), minRefresh: time.Hour, ttl: time.Hour}
	// The interleaving: this caller has checked the state (nothing tried
	// yet) when another request runs a whole flight; then it goes on.
	var first atomic.Bool
	beforeFlight = func() {
		if first.CompareAndSwap(false, true) {
			done := make(chan struct{})
			go func() { defer close(done); d.metadata(context.Background()) }()
			<-done
		}
	}
	defer func() { beforeFlight = nil }()
	if _, err := d.metadata(context.Background()); err == nil {
		t.Fatal("no error from a failing provider")
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); d.metadata(context.Background()) }()
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d discovery fetches within one min-refresh interval, want 1", n)
	}
}
