package main

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// Issue 18: when the provider fails under concurrency, singleflight hands
// one error value to every waiting request, and key sets and discovery keep
// their last fetch error for later requests. Each request then adds its own
// log fields. If that wrote into the shared value, the plugin process
// (built with -race here) would report a data race, or in a release build
// die of "concurrent map writes", which recover() cannot catch. Every
// request must get its own code and the process must survive; the harness
// fails any test whose plugin process races or dies.

// storm sends n concurrent requests, rounds times, and checks each refusal.
func storm(t *testing.T, s *kongwire.Server, inst *kongwire.Instance, rounds, n int, req func(round, i int) *kongwire.Request, status int, code string) {
	t.Helper()
	for round := 0; round < rounds; round++ {
		results := make([]*kongwire.Result, n)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = inst.Access(t, req(round, i))
			}()
		}
		wg.Wait()
		for i, res := range results {
			if res.Err != nil || !res.Exited || res.Status != status {
				t.Fatalf("round %d request %d: status %d exited %v err %v body %s, want %d %s", round, i, res.Status, res.Exited, res.Err, res.Body, status, code)
			}
			kongwire.CheckRefusal(t, res, "authkit-oauth", status, code)
		}
		if s.Exited() {
			t.Fatalf("round %d: the plugin process died:\n%v", round, s.ProcessOutput())
		}
	}
}

func TestSharedErrorIntrospectionOutage(t *testing.T) {
	p := newProvider(t)
	p.set(func(p *fakeProvider) {
		p.introspect = func(w http.ResponseWriter, _ string) {
			time.Sleep(50 * time.Millisecond) // let the 64 requests pile onto one call
			http.Error(w, "down", http.StatusInternalServerError)
		}
	})
	s := startPlugin(t)
	inst := s.StartInstance(t, introCfg(p, "http_timeout_ms", 3000))
	storm(t, s, inst, 5, 64, func(int, int) *kongwire.Request { return bearerReq("opaque-shared") }, 502, "OAUTH_PROVIDER_ERROR")
	if n := p.introCalls.Load(); n >= 5*64 {
		t.Fatalf("%d introspection calls for 5 rounds of 64: the requests were not merged, so nothing was shared", n)
	}
}

func TestSharedErrorJWKSOutage(t *testing.T) {
	k := newRSA(t, "known")
	p := newProvider(t, k)
	s := startPlugin(t)
	inst := s.StartInstance(t, baseCfg(p, "jwks_uri", p.issuer()+"/jwks", "jwks_min_refresh_seconds", 0, "http_timeout_ms", 3000))
	accepted(t, inst.Access(t, bearerReq(k.mint(t, claims(p.issuer())))))

	// The JWKS endpoint fails; a token with an unknown kid forces a refetch
	// that every concurrent request waits on.
	p.set(func(p *fakeProvider) { p.jwksMode = "500" })
	unknown := newRSA(t, "rotated-away")
	tok := unknown.mint(t, claims(p.issuer()))
	storm(t, s, inst, 5, 64, func(int, int) *kongwire.Request { return bearerReq(tok) }, 502, "OAUTH_PROVIDER_ERROR")
}

func TestSharedErrorDiscoveryOutage(t *testing.T) {
	k := newRSA(t, "k")
	p := newProvider(t, k)
	p.set(func(p *fakeProvider) { p.discMode = "500" })
	s := startPlugin(t)
	inst := s.StartInstance(t, baseCfg(p, "http_timeout_ms", 3000))
	tok := k.mint(t, claims(p.issuer()))
	storm(t, s, inst, 5, 64, func(int, int) *kongwire.Request { return bearerReq(tok) }, 502, "OAUTH_PROVIDER_ERROR")
}
