package introspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name, body string
		active     bool
		want       string // "" = ok; else substring of the error
	}{
		{"active", `{"active":true,"scope":"a b","client_id":"c","exp":2000000000,"aud":["x"]}`, true, ""},
		{"inactive", `{"active":false}`, false, ""},
		{"inactive with junk", `{"active":false,"exp":"soon"}`, false, ""},
		{"active missing", `{"scope":"a"}`, false, `"active" is missing`},
		{"active string", `{"active":"true"}`, false, `the string "true", not a JSON boolean`},
		{"active number", `{"active":1}`, false, "a number, not a JSON boolean"},
		{"active null", `{"active":null}`, false, "null, not a JSON boolean"},
		{"exp string", `{"active":true,"exp":"1700000000"}`, false, `"exp" is the string`},
		{"exp negative", `{"active":true,"exp":-5}`, false, "NumericDate"},
		{"scope array", `{"active":true,"scope":["a"]}`, false, `"scope" is an array`},
		{"aud number", `{"active":true,"aud":5}`, false, `"aud" is a number`},
		{"aud array of numbers", `{"active":true,"aud":[5]}`, false, `"aud" holds a number`},
		{"not json", `<html>`, false, "not a JSON object"},
		{"truncated", `{"active":tr`, false, "not a JSON object"},
		{"array", `[true]`, false, "not a JSON object"},
		{"null", `null`, false, "not a JSON object: null"},
		{"trailing", `{"active":false} {"active":true}`, false, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseResponse([]byte(tt.body))
			if tt.want == "" {
				if err != nil || a.Active != tt.active {
					t.Fatalf("%+v %v", a, err)
				}
				return
			}
			if err == nil || !errors.Is(err, errcode.ProviderInvalidResp) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{`{"active":true,"exp":1}`, `{"active":"true"}`, `{`, `{"active":true,"aud":[1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseResponse(b)
		if err == nil && a.Active {
			if _, ok := a.Claims["active"]; ok {
				t.Fatal("active left in claims")
			}
		}
		if err != nil && !errors.Is(err, errcode.ProviderInvalidResp) {
			t.Fatalf("wrong code: %v", err)
		}
	})
}

// provider is a fault-injecting introspection endpoint.
type fakeProvider struct {
	calls   atomic.Int64
	handler func(w http.ResponseWriter, r *http.Request)
}

func newProvider(t testing.TB, h func(w http.ResponseWriter, r *http.Request)) (*fakeProvider, *httptest.Server) {
	p := &fakeProvider{handler: h}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		p.handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return p, srv
}

func jsonAnswer(status int, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var tokenSeq atomic.Int64

func freshToken() string {
	return fmt.Sprintf("opaque-token-%d-%d", time.Now().UnixNano(), tokenSeq.Add(1))
}

func client(t testing.TB, url string, mut ...func(*Options)) *Client {
	o := Options{Endpoint: url, ClientID: "gw", ClientSecret: "gw-secret", CacheTTL: time.Minute, NegativeTTL: 10 * time.Second, HTTP: provider.New(200 * time.Millisecond)}
	for _, m := range mut {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRequestShape(t *testing.T) {
	var got *http.Request
	var form string
	_, srv := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		form = string(b)
		jsonAnswer(200, `{"active":false}`)(w, r)
	})
	c := client(t, srv.URL, func(o *Options) { o.TokenTypeHint = "access_token"; o.ClientSecret = "p@ss:word" })
	if _, _, err := c.Introspect(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	user, pass, ok := got.BasicAuth()
	if !ok || user != "gw" || pass != "p%40ss%3Aword" || got.Method != "POST" || form != "token=tok&token_type_hint=access_token" {
		t.Fatalf("basic %q/%q %v %s form %q", user, pass, ok, got.Method, form)
	}
	c = client(t, srv.URL, func(o *Options) { o.AuthMethod = AuthPost })
	c.Introspect(context.Background(), "tok2")
	if _, _, ok := got.BasicAuth(); ok || !strings.Contains(form, "client_id=gw") || !strings.Contains(form, "client_secret=gw-secret") {
		t.Fatalf("post auth: %q", form)
	}
}

func TestCaching(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	p, srv := newProvider(t, jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d,"scope":"a"}`, exp)))
	c := client(t, srv.URL)
	tok := freshToken()
	for i := 0; i < 3; i++ {
		a, cached, err := c.Introspect(context.Background(), tok)
		if err != nil || !a.Active || cached != (i > 0) {
			t.Fatalf("%d: %+v cached=%v %v", i, a, cached, err)
		}
	}
	if p.calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", p.calls.Load())
	}

	// Never beyond exp: a token expiring in 1 s is cached at most 1 s.
	p2, srv2 := newProvider(t, jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, time.Now().Unix()+1)))
	c2 := client(t, srv2.URL)
	tok2 := freshToken()
	c2.Introspect(context.Background(), tok2)
	time.Sleep(1100 * time.Millisecond)
	c2.Introspect(context.Background(), tok2)
	if p2.calls.Load() != 2 {
		t.Fatalf("answer cached beyond exp: %d calls", p2.calls.Load())
	}

	// No exp: not cached.
	p3, srv3 := newProvider(t, jsonAnswer(200, `{"active":true}`))
	c3 := client(t, srv3.URL)
	tok3 := freshToken()
	c3.Introspect(context.Background(), tok3)
	c3.Introspect(context.Background(), tok3)
	if p3.calls.Load() != 2 {
		t.Fatal("an answer without exp must not be cached")
	}

	// Inactive answers: negative TTL.
	p4, srv4 := newProvider(t, jsonAnswer(200, `{"active":false}`))
	c4 := client(t, srv4.URL)
	tok4 := freshToken()
	c4.Introspect(context.Background(), tok4)
	if _, cached, _ := c4.Introspect(context.Background(), tok4); !cached || p4.calls.Load() != 1 {
		t.Fatal("inactive answer not cached")
	}
}

func TestFailuresHaveCodesAndAreNotCached(t *testing.T) {
	closed := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		a := l.Addr().String()
		l.Close()
		return "http://" + a + "/introspect"
	}()
	slow := func(w http.ResponseWriter, r *http.Request) { time.Sleep(500 * time.Millisecond) }
	tests := []struct {
		name string
		h    func(w http.ResponseWriter, r *http.Request)
		url  string
		want errcode.Code
		msg  string
	}{
		{"refused", nil, closed, errcode.ProviderUnreachable, "refused"},
		{"timeout", slow, "", errcode.ProviderTimeout, ""},
		{"5xx", jsonAnswer(503, `{"error":"temporarily_unavailable"}`), "", errcode.ProviderError, "503"},
		{"invalid_client", jsonAnswer(401, `{"error":"invalid_client"}`), "", errcode.ProviderClientAuthFail, ""},
		{"bare 401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, "", errcode.ProviderClientAuthFail, "401"},
		{"html 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login</html>")
		}, "", errcode.ProviderInvalidResp, "text/html"},
		{"not json", jsonAnswer(200, "active=true"), "", errcode.ProviderInvalidResp, ""},
		{"truncated", jsonAnswer(200, `{"active":tru`), "", errcode.ProviderInvalidResp, ""},
		{"active missing", jsonAnswer(200, `{"scope":"a"}`), "", errcode.ProviderInvalidResp, `"active" is missing`},
		{"active string", jsonAnswer(200, `{"active":"true"}`), "", errcode.ProviderInvalidResp, "not a JSON boolean"},
		{"exp string", jsonAnswer(200, `{"active":true,"exp":"tomorrow"}`), "", errcode.ProviderInvalidResp, `"exp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			var p *fakeProvider
			if url == "" {
				var srv *httptest.Server
				p, srv = newProvider(t, tt.h)
				url = srv.URL
			}
			c := client(t, url)
			tok := freshToken()
			for i := 0; i < 2; i++ {
				a, _, err := c.Introspect(context.Background(), tok)
				if a != nil || !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("got %+v %v, want %s %q", a, err, tt.want, tt.msg)
				}
			}
			if p != nil && p.calls.Load() != 2 {
				t.Fatalf("a failure was cached: %d calls", p.calls.Load())
			}
		})
	}
}

func TestConcurrentSameTokenOneCall(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	p, srv := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp))(w, r)
	})
	c := client(t, srv.URL, func(o *Options) { o.HTTP = provider.New(5 * time.Second) })
	tok := freshToken()
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, _, err := c.Introspect(context.Background(), tok); err != nil || !a.Active {
				t.Error(a, err)
			}
		}()
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("100 concurrent requests for one token: %d introspection calls, want 1", n)
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{
		{Endpoint: "/relative", ClientID: "a"},
		{Endpoint: "ftp://x/y", ClientID: "a"},
		{Endpoint: "https://x/y"},
		{Endpoint: "https://x/y", ClientID: "a", AuthMethod: "private_key_jwt"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestReaderPolicy: the cache is shared by every Client of the process, but
// each read applies the reader's own TTLs (issue 11, item 1). A Client
// whose TTL is 0 never reads an answer another Client cached, and a short
// TTL is measured from when the answer was fetched, not stored.
func TestReaderPolicy(t *testing.T) {
	var active atomic.Bool
	active.Store(true)
	exp := time.Now().Add(time.Hour).Unix()
	p, srv := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if active.Load() {
			jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp))(w, r)
			return
		}
		jsonAnswer(200, `{"active":false}`)(w, r)
	})
	now := time.Now()
	clock := func() time.Time { return now }
	long := client(t, srv.URL, func(o *Options) { o.CacheTTL = 5 * time.Minute; o.Now = clock })
	off := client(t, srv.URL, func(o *Options) { o.CacheTTL = 0; o.NegativeTTL = 0; o.Now = clock })
	short := client(t, srv.URL, func(o *Options) { o.CacheTTL = 10 * time.Second; o.Now = clock })
	tok := freshToken()

	if a, cached, err := long.Introspect(context.Background(), tok); err != nil || !a.Active || cached {
		t.Fatalf("first: %+v %v %v", a, cached, err)
	}
	if _, cached, _ := long.Introspect(context.Background(), tok); !cached {
		t.Fatal("the caching client did not reuse its answer")
	}
	if _, cached, _ := short.Introspect(context.Background(), tok); !cached {
		t.Fatal("a client with a shorter TTL did not reuse a fresh answer")
	}
	// Revoked at the provider: the client with caching off sees it at once…
	active.Store(false)
	calls := p.calls.Load()
	if a, cached, err := off.Introspect(context.Background(), tok); err != nil || a.Active || cached || p.calls.Load() != calls+1 {
		t.Fatalf("TTL 0 read another client's cached answer: %+v cached=%v calls %d→%d", a, cached, calls, p.calls.Load())
	}
	// …and its fresher answer replaces the older one for every reader
	// (each under its own negative TTL).
	if a, cached, _ := long.Introspect(context.Background(), tok); a.Active || !cached {
		t.Fatalf("the revocation another client saw did not reach the cache: %+v cached=%v", a, cached)
	}
	if a, _, _ := off.Introspect(context.Background(), tok); a.Active {
		t.Fatal("TTL 0 must keep asking")
	}

	// A short TTL is counted from the fetch.
	active.Store(true)
	tok2 := freshToken()
	long.Introspect(context.Background(), tok2)
	now = now.Add(30 * time.Second)
	if _, cached, _ := short.Introspect(context.Background(), tok2); cached {
		t.Fatal("an answer fetched 30 s ago was reused under a 10 s TTL")
	}
	if _, cached, _ := long.Introspect(context.Background(), tok2); !cached {
		t.Fatal("the short client's refetch should serve the long one")
	}
}

// TestKeyBindsTheVerdictInputs: a different secret, auth method or
// token_type_hint at the same endpoint and client id is a different
// question, never answered from another's cache entry.
func TestKeyBindsTheVerdictInputs(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	p, srv := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); ok && (user != "gw" || pass != "gw-secret") {
			jsonAnswer(401, `{"error":"invalid_client"}`)(w, r)
			return
		}
		jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d}`, exp))(w, r)
	})
	slow := func(o *Options) { o.HTTP = provider.New(5 * time.Second) }
	good := client(t, srv.URL, slow)
	tok := freshToken()
	if _, _, err := good.Introspect(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	wrong := client(t, srv.URL, slow, func(o *Options) { o.ClientSecret = "not-the-secret" })
	if a, cached, err := wrong.Introspect(context.Background(), tok); !errors.Is(err, errcode.ProviderClientAuthFail) {
		t.Fatalf("a wrong secret was served another client's answer: %+v cached=%v err %v", a, cached, err)
	}
	for name, mut := range map[string]func(*Options){
		"auth method": func(o *Options) { o.AuthMethod = AuthPost },
		"hint":        func(o *Options) { o.TokenTypeHint = "refresh_token" },
		"access hint": func(o *Options) { o.TokenTypeHint = "access_token" },
	} {
		before := p.calls.Load()
		if _, cached, err := client(t, srv.URL, slow, mut).Introspect(context.Background(), tok); err != nil || cached || p.calls.Load() != before+1 {
			t.Errorf("%s: cached=%v err %v", name, cached, err)
		}
	}
	a, b := clientKey(Options{Endpoint: "e", ClientID: "ab", ClientSecret: "c"}), clientKey(Options{Endpoint: "e", ClientID: "a", ClientSecret: "bc"})
	if a == b {
		t.Fatal("length prefixes missing: fields collide by concatenation")
	}
}
