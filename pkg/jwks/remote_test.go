package jwks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// jwksServer is a provider whose answer the test changes.
type jwksServer struct {
	*httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	body  []byte
	ctype string
	// gate, when set, holds every request until closed.
	gate chan struct{}
	// arrived receives a value per request (non-blocking).
	arrived chan struct{}
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	s := &jwksServer{body: body, ctype: "application/jwk-set+json", arrived: make(chan struct{}, 1024)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		select {
		case s.arrived <- struct{}{}:
		default:
		}
		s.mu.Lock()
		body, ctype, gate := s.body, s.ctype, s.gate
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte, ctype string) {
	s.mu.Lock()
	s.body, s.ctype = body, ctype
	s.mu.Unlock()
}

func (s *jwksServer) setGate(g chan struct{}) { s.mu.Lock(); s.gate = g; s.mu.Unlock() }

func newTestRemote(url string, clk *fakeClock) *RemoteSet {
	return NewRemote(url, RemoteOptions{Client: provider.New(2 * time.Second), MinRefresh: DefaultMinRefresh, Now: clk.Now})
}

func mustLookup(t testing.TB, r Source, kid string) *Key {
	t.Helper()
	k, err := r.Lookup(context.Background(), kid)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", kid, err)
	}
	if k.ID != kid {
		t.Fatalf("Lookup(%q) = %q", kid, k.ID)
	}
	return k
}

func assertFetches(t testing.TB, r *RemoteSet, srv *jwksServer, want int64) {
	t.Helper()
	if got := r.Fetches(); got != want {
		t.Fatalf("Fetches() = %d, want %d", got, want)
	}
	if got := srv.hits.Load(); got != want {
		t.Fatalf("server saw %d requests, want %d", got, want)
	}
}

func TestRemoteFirstFetchThenCache(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey), ecJWK("k2", &k.p256.PublicKey)))
	r := newTestRemote(srv.URL, newClock())
	assertFetches(t, r, srv, 0) // nothing happens before the first lookup
	mustLookup(t, r, "k1")
	for i := 0; i < 100; i++ {
		mustLookup(t, r, "k2")
	}
	assertFetches(t, r, srv, 1)
	if r.LastError() != nil || r.Current() == nil || len(r.Current().Keys) != 2 {
		t.Fatalf("state: %v %v", r.LastError(), r.Current())
	}
}

func TestRemoteUnknownKid(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	mustLookup(t, r, "k1")

	// Within MinRefresh of the first fetch: KeyNotFound at once, no fetch.
	_, err := r.Lookup(context.Background(), "nope")
	if !errors.Is(err, errcode.KeyNotFound) {
		t.Fatal(err)
	}
	assertFetches(t, r, srv, 1)

	// After MinRefresh: one refetch, then KeyNotFound listing known kids.
	clk.Advance(DefaultMinRefresh)
	_, err = r.Lookup(context.Background(), "nope")
	if !errors.Is(err, errcode.KeyNotFound) || !strings.Contains(err.Error(), `kid "nope" is not in the key set (known kids: "k1")`) {
		t.Fatal(err)
	}
	assertFetches(t, r, srv, 2)
	_, err = r.Lookup(context.Background(), "nope")
	if !errors.Is(err, errcode.KeyNotFound) {
		t.Fatal(err)
	}
	assertFetches(t, r, srv, 2)

	// A token without kid against a one-key set needs no refetch.
	clk.Advance(DefaultMinRefresh)
	mustLookup(t, r, "k1")
	if got, err := r.Lookup(context.Background(), ""); err != nil || got.ID != "k1" {
		t.Fatal(got, err)
	}
	assertFetches(t, r, srv, 2)
}

func TestRemoteRandomKidFlood(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	mustLookup(t, r, "k1")

	flood := func() {
		var wg sync.WaitGroup
		for i := 0; i < 1000; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Lookup(context.Background(), fmt.Sprintf("rnd-%x", rand.Uint64()))
				if !errors.Is(err, errcode.KeyNotFound) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	// Right after the first fetch: the flood costs nothing.
	flood()
	assertFetches(t, r, srv, 1)
	// Once MinRefresh has passed: exactly one extra fetch for 1000 lookups.
	clk.Advance(DefaultMinRefresh + time.Second)
	flood()
	assertFetches(t, r, srv, 2)
	t.Logf("1000 random kids: %d extra fetch(es)", r.Fetches()-1)
}

func TestRemoteRotation(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("old", &k.rsa.PublicKey)))
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	mustLookup(t, r, "old")

	srv.set(setJSON(rsaJWK("old", &k.rsa.PublicKey), rsaJWK("new", &k.rsa2.PublicKey)), "application/json")
	clk.Advance(DefaultMinRefresh)
	got := mustLookup(t, r, "new")
	if !samePublic(got.Public, &k.rsa2.PublicKey) {
		t.Fatal("wrong key material for the rotated kid")
	}
	for i := 0; i < 10; i++ {
		mustLookup(t, r, "new")
		mustLookup(t, r, "old")
	}
	assertFetches(t, r, srv, 2)

	// The old key is withdrawn: replaced sets drop it (revocation).
	srv.set(setJSON(rsaJWK("new", &k.rsa2.PublicKey)), "application/json")
	clk.Advance(DefaultTTL)
	if _, err := r.Lookup(context.Background(), "old"); !errors.Is(err, errcode.KeyNotFound) {
		t.Fatalf("withdrawn key still served: %v", err)
	}
	assertFetches(t, r, srv, 3)
}

func TestRemoteStaleIfError(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	mustLookup(t, r, "k1")

	srv.Close() // the provider goes down
	clk.Advance(DefaultTTL)
	mustLookup(t, r, "k1") // expired, refetch fails, old keys still served
	if err := r.LastError(); !errors.Is(err, errcode.ProviderUnreachable) {
		t.Fatalf("LastError() = %v", err)
	}
	if r.Fetches() != 2 {
		t.Fatalf("fetches %d", r.Fetches())
	}
	// Retries are rate-limited too: no fetch per request during an outage.
	for i := 0; i < 50; i++ {
		mustLookup(t, r, "k1")
	}
	if r.Fetches() != 2 {
		t.Fatalf("fetches %d", r.Fetches())
	}
	// An unknown kid cannot be proven unknown while the set cannot be
	// refreshed: the provider's failure is reported, with the kid.
	_, err := r.Lookup(context.Background(), "rotated")
	if !errors.Is(err, errcode.ProviderUnreachable) || errcode.From(err).Field("kid") != "rotated" {
		t.Fatalf("unknown kid during outage: %v", err)
	}
	clk.Advance(DefaultMinRefresh)
	mustLookup(t, r, "k1")
	if r.Fetches() != 3 {
		t.Fatalf("fetches %d, want a retry after MinRefresh", r.Fetches())
	}
}

func TestRemoteRecoversAndClearsLastError(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, []byte("<html>maintenance</html>"))
	srv.set([]byte("<html>maintenance</html>"), "text/html")
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	if _, err := r.Lookup(context.Background(), "k1"); !errors.Is(err, errcode.ProviderInvalidResp) {
		t.Fatal(err)
	}
	srv.set(setJSON(rsaJWK("k1", &k.rsa.PublicKey)), "application/json")
	clk.Advance(DefaultMinRefresh)
	mustLookup(t, r, "k1")
	if r.LastError() != nil {
		t.Fatal(r.LastError())
	}
}

func TestRemoteDownFromStart(t *testing.T) {
	srv := newJWKSServer(t, nil)
	srv.Close()
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	for i := 0; i < 3; i++ {
		_, err := r.Lookup(context.Background(), "k1")
		if !errors.Is(err, errcode.ProviderUnreachable) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatal(err)
		}
	}
	if r.Fetches() != 1 {
		t.Fatalf("fetches %d: a down provider must not be hit on every request", r.Fetches())
	}
	clk.Advance(DefaultMinRefresh)
	r.Lookup(context.Background(), "k1")
	if r.Fetches() != 2 {
		t.Fatalf("fetches %d", r.Fetches())
	}
}

func TestRemoteInvalidAnswers(t *testing.T) {
	k := keys(t)
	tests := []struct {
		name, ctype string
		body        []byte
		detail      string
		malformed   bool
	}{
		{"html", "text/html", []byte("<html>login</html>"), "content type text/html, want application/json", false},
		{"not a jwks", "application/json", []byte(`{"issuer":"x"}`), `no "keys" member`, true},
		{"only oct keys", "application/json", setJSON(octJWK("h", make([]byte, 32))), "symmetric (oct) key not accepted", true},
		{"malformed key", "application/json", setJSON(rsaJWK("k", &k.rsa.PublicKey).with("n", nil)), `missing required member "n"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, tt.body)
			srv.set(tt.body, tt.ctype)
			r := newTestRemote(srv.URL, newClock())
			_, err := r.Lookup(context.Background(), "k")
			if !errors.Is(err, errcode.ProviderInvalidResp) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("got %v", err)
			}
			if errors.Is(err, ErrMalformed) != tt.malformed {
				t.Errorf("errors.Is(err, ErrMalformed) = %v", !tt.malformed)
			}
			if errcode.From(err).Field("url") != srv.URL {
				t.Errorf("fields %v", maps.Collect(errcode.From(err).Fields()))
			}
		})
	}
}

func TestRemoteConcurrentColdLookups(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	gate := make(chan struct{})
	srv.setGate(gate)
	r := newTestRemote(srv.URL, newClock())

	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); mustLookup(t, r, "k1") }()
	}
	<-srv.arrived
	time.Sleep(20 * time.Millisecond) // let the others pile up on the flight
	close(gate)
	wg.Wait()
	assertFetches(t, r, srv, 1)
}

func TestRemoteExpiryRefreshDoesNotBlockOthers(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	clk := newClock()
	r := newTestRemote(srv.URL, clk)
	mustLookup(t, r, "k1")
	<-srv.arrived

	gate := make(chan struct{})
	srv.setGate(gate)
	clk.Advance(DefaultTTL)
	done := make(chan struct{})
	go func() { defer close(done); mustLookup(t, r, "k1") }() // the refresher
	<-srv.arrived

	start := time.Now()
	for i := 0; i < 100; i++ {
		mustLookup(t, r, "k1") // served from the current keys meanwhile
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("lookups waited %s for the refresh", d)
	}
	close(gate)
	<-done
	assertFetches(t, r, srv, 2)
}

func TestRemoteCallerContextEnds(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	gate := make(chan struct{})
	srv.setGate(gate)
	r := newTestRemote(srv.URL, newClock())

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { _, err := r.Lookup(ctx, "k1"); errc <- err }()
	<-srv.arrived
	cancel()
	if err := <-errc; !errors.Is(err, errcode.ProviderTimeout) {
		t.Fatalf("got %v", err)
	}
	// The fetch was not cancelled with the request: it completes for others.
	close(gate)
	mustLookup(t, r, "k1")
	assertFetches(t, r, srv, 1)
}

func TestRemoteRegistry(t *testing.T) {
	before := Registered()
	opts := RemoteOptions{Client: provider.New(time.Second)}
	a, relA := Remote("https://idp.example/jwks", opts)
	b, relB := Remote("https://idp.example/jwks", RemoteOptions{Client: provider.New(time.Second)})
	if a != b {
		t.Fatal("a restarted plugin instance must reuse the process-wide set")
	}
	c, relC := Remote("https://idp.example/jwks", RemoteOptions{Client: provider.New(time.Second), MinRefresh: time.Minute})
	if c == a {
		t.Fatal("different options must not share a set")
	}
	d, relD := Remote("https://other.example/jwks", opts)
	if d == a {
		t.Fatal("different URLs must not share a set")
	}
	if n := Registered(); n != before+3 {
		t.Fatalf("registered %d sets, want %d", n, before+3)
	}
	// A set lives while one holder keeps it; released twice is released
	// once.
	relA()
	relA()
	if again, rel := Remote("https://idp.example/jwks", opts); again != a {
		t.Fatal("the set was dropped while a holder still had it")
	} else {
		rel()
	}
	relB()
	relC()
	relD()
	if n := Registered(); n != before {
		t.Fatalf("after every release %d sets are left, want %d", n, before)
	}
	if again, rel := Remote("https://idp.example/jwks", opts); again == a {
		t.Fatal("a released set came back")
	} else {
		rel()
	}
}

func TestRemoteErrorsAreCopies(t *testing.T) {
	srv := newJWKSServer(t, nil)
	srv.Close()
	r := newTestRemote(srv.URL, newClock())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Lookup(context.Background(), "k")
			errcode.From(err).With("request_id", i) // callers decorate; -race checks sharing
		}()
	}
	wg.Wait()
}

// BenchmarkRandomKidFlood: 1000 lookups with random kids against a remote
// set whose MinRefresh has passed; reports the fetches they cost.
func BenchmarkRandomKidFlood(b *testing.B) {
	k := keys(b)
	srv := newJWKSServer(b, setJSON(rsaJWK("k1", &k.rsa.PublicKey)))
	var extra int64
	for b.Loop() {
		b.StopTimer()
		clk := newClock()
		r := newTestRemote(srv.URL, clk)
		mustLookup(b, r, "k1")
		clk.Advance(DefaultMinRefresh)
		b.StartTimer()
		var wg sync.WaitGroup
		for i := 0; i < 1000; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.Lookup(context.Background(), fmt.Sprintf("rnd-%x", rand.Uint64()))
			}()
		}
		wg.Wait()
		extra += r.Fetches() - 1
	}
	b.ReportMetric(float64(extra)/float64(b.N), "fetches/1000lookups")
}

// BenchmarkLookupCached is the hot path: a known kid from a fetched set,
// from many goroutines.
func BenchmarkLookupCached(b *testing.B) {
	k := keys(b)
	srv := newJWKSServer(b, setJSON(rsaJWK("k1", &k.rsa.PublicKey), ecJWK("k2", &k.p256.PublicKey)))
	r := newTestRemote(srv.URL, newClock())
	mustLookup(b, r, "k1")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Lookup(context.Background(), "k2"); err != nil {
				b.Fatal(err)
			}
		}
	})
	if r.Fetches() != 1 {
		b.Fatalf("fetches %d", r.Fetches())
	}
}
