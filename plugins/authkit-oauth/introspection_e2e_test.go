package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

func introCfg(p *fakeProvider, kv ...any) map[string]any {
	c := map[string]any{"introspection_endpoint": p.issuer() + "/introspect", "introspection_client_id": "gateway",
		"introspection_client_secret": "gateway-secret", "token_mode": "introspection", "allowed_issuers": []any{p.issuer()},
		"audiences": []any{"https://api.example.test"}, "realm": "api", "http_timeout_ms": 300}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func activeAnswer(p *fakeProvider, kv ...string) func(w http.ResponseWriter, token string) {
	return func(w http.ResponseWriter, token string) {
		w.Header().Set("Content-Type", "application/json")
		extra := strings.Join(kv, ",")
		if extra != "" {
			extra = "," + extra
		}
		fmt.Fprintf(w, `{"active":true,"iss":%q,"aud":["https://api.example.test"],"client_id":"web-app","sub":"user-1","scope":"read","exp":%d%s}`,
			p.issuer(), time.Now().Add(time.Hour).Unix(), extra)
	}
}

func TestIntrospectionEndToEnd(t *testing.T) {
	p := newProvider(t)
	p.set(func(p *fakeProvider) {
		p.introspect = func(w http.ResponseWriter, token string) {
			switch token {
			case "tok-active":
				activeAnswer(p)(w, token)
			case "tok-other-client":
				activeAnswer(p, `"client_id":"mobile"`)(w, token)
			default:
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"active":false}`)
			}
		}
	})
	s := startPlugin(t)
	inst := s.StartInstance(t, introCfg(p, "allowed_client_ids", []any{"web-app"}, "required_scopes", []any{"read"}))
	accepted(t, inst.Access(t, bearerReq("tok-active")))
	before := p.introCalls.Load()
	accepted(t, inst.Access(t, bearerReq("tok-active")))
	if p.introCalls.Load() != before {
		t.Fatal("an active answer was not cached")
	}
	refused(t, inst.Access(t, bearerReq("tok-revoked")), "tok-revoked", 401, "OAUTH_TOKEN_INACTIVE")
	refused(t, inst.Access(t, bearerReq("tok-other-client")), "tok-other-client", 401, "OAUTH_CLIENT_NOT_ALLOWED", "mobile")

	// auto mode: a JWT-shaped token goes to the keys, anything else to introspection.
	k := newRSA(t, "k")
	p.set(func(p *fakeProvider) { p.keys = []*signer{k} })
	auto := s.StartInstance(t, introCfg(p, "token_mode", "auto", "jwks_uri", p.issuer()+"/jwks"))
	before = p.introCalls.Load()
	accepted(t, auto.Access(t, bearerReq(k.mint(t, claims(p.issuer())))))
	if p.introCalls.Load() != before {
		t.Fatal("auto mode introspected a JWT")
	}
	accepted(t, auto.Access(t, bearerReq("tok-active")))
}

// TestIntrospectionFaults: every way the provider can fail has its code,
// its status, and never lets the request through nor is cached as inactive.
func TestIntrospectionFaults(t *testing.T) {
	faults := []struct {
		name   string
		answer func(w http.ResponseWriter, token string)
		status int
		code   string
		logHas string
	}{
		{"timeout", func(w http.ResponseWriter, _ string) { time.Sleep(600 * time.Millisecond) }, 504, "OAUTH_PROVIDER_TIMEOUT", ""},
		{"5xx", func(w http.ResponseWriter, _ string) { w.WriteHeader(503) }, 502, "OAUTH_PROVIDER_ERROR", "503"},
		{"gateway credentials refused", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
		}, 500, "OAUTH_PROVIDER_CLIENT_AUTH_FAILED", "gateway"},
		{"html", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>login</html>")
		}, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", "text/html"},
		{"not json", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "active=true")
		}, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", "not JSON"},
		{"truncated", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"active":tr`)
		}, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", ""},
		{"active missing", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"scope":"read"}`)
		}, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", "missing"},
		{"active not a boolean", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"active":"true"}`)
		}, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", "not a JSON boolean"},
		{"exp not a number", func(w http.ResponseWriter, _ string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"active":true,"exp":"tomorrow"}`)
		}, 502, "OAUTH_PROVIDER_INVALID_RESPONSE", "exp"},
	}
	s := startPlugin(t)
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			p := newProvider(t)
			p.set(func(p *fakeProvider) { p.introspect = f.answer })
			inst := s.StartInstance(t, introCfg(p))
			tok := "opaque-" + strings.ReplaceAll(f.name, " ", "-")
			for i := 0; i < 2; i++ {
				refused(t, inst.Access(t, bearerReq(tok)), tok, f.status, f.code, f.logHas)
			}
			if n := p.introCalls.Load(); n != 2 {
				t.Fatalf("%d introspection calls for 2 requests: a failure was cached", n)
			}
			// Once the provider recovers the token is accepted: nothing was cached as inactive.
			p.set(func(p *fakeProvider) { p.introspect = activeAnswer(p) })
			accepted(t, inst.Access(t, bearerReq(tok)))
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		inst := s.StartInstance(t, map[string]any{"introspection_endpoint": closedURL(t) + "/introspect", "introspection_client_id": "g",
			"introspection_client_secret": "s", "token_mode": "introspection", "http_timeout_ms": 300})
		refused(t, inst.Access(t, bearerReq("opaque-x")), "opaque-x", 503, "OAUTH_PROVIDER_UNREACHABLE")
	})
}

func TestIntrospectionConcurrentOneCall(t *testing.T) {
	p := newProvider(t)
	p.set(func(p *fakeProvider) {
		p.introspect = func(w http.ResponseWriter, token string) {
			time.Sleep(100 * time.Millisecond)
			activeAnswer(p)(w, token)
		}
	})
	inst := startPlugin(t).StartInstance(t, introCfg(p, "http_timeout_ms", 3000))
	var wg sync.WaitGroup
	results := make([]*kongwire.Result, 50)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = inst.Access(t, bearerReq("tok-concurrent"))
		}(i)
	}
	wg.Wait()
	for _, r := range results {
		accepted(t, r)
	}
	if n := p.introCalls.Load(); n != 1 {
		t.Fatalf("50 concurrent requests with one new token: %d introspection calls, want 1", n)
	}
}

// TestIntrospectionCacheReaderPolicy (issue 11, item 1): routes share the
// process-wide introspection cache, but each reads it under its own
// settings, and only with the same gateway credentials. A route with
// caching off sees a revocation at once although another route cached the
// token active; a route with a wrong client secret is told so instead of
// being served the answers the right secret obtained.
func TestIntrospectionCacheReaderPolicy(t *testing.T) {
	p := newProvider(t)
	var revoked sync.Map
	p.set(func(p *fakeProvider) {
		p.introSecret = "gateway-secret"
		p.introspect = func(w http.ResponseWriter, token string) {
			if _, ok := revoked.Load(token); ok {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"active":false}`)
				return
			}
			activeAnswer(p)(w, token)
		}
	})
	s := startPlugin(t)
	caching := s.StartInstance(t, introCfg(p, "introspection_cache_ttl_seconds", 300, "http_timeout_ms", 3000))
	uncached := s.StartInstance(t, introCfg(p, "introspection_cache_ttl_seconds", 0, "introspection_negative_ttl_seconds", 0, "http_timeout_ms", 3000))
	misconfigured := s.StartInstance(t, introCfg(p, "introspection_client_secret", "stale-secret", "http_timeout_ms", 3000))

	accepted(t, caching.Access(t, bearerReq("tok-shared")))
	before := p.introCalls.Load()
	refused(t, misconfigured.Access(t, bearerReq("tok-shared")), "tok-shared", 500, "OAUTH_PROVIDER_CLIENT_AUTH_FAILED")
	if p.introCalls.Load() != before+1 {
		t.Fatal("the route with a wrong secret was answered from the cache of the route with the right one")
	}

	accepted(t, caching.Access(t, bearerReq("tok-revoked-later")))
	revoked.Store("tok-revoked-later", true)
	refused(t, uncached.Access(t, bearerReq("tok-revoked-later")), "tok-revoked-later", 401, "OAUTH_TOKEN_INACTIVE")
	// The fresher answer reaches the caching route too.
	refused(t, caching.Access(t, bearerReq("tok-revoked-later")), "tok-revoked-later", 401, "OAUTH_TOKEN_INACTIVE")
	before = p.introCalls.Load()
	refused(t, uncached.Access(t, bearerReq("tok-revoked-later")), "tok-revoked-later", 401, "OAUTH_TOKEN_INACTIVE")
	if p.introCalls.Load() != before+1 {
		t.Fatal("introspection_negative_ttl_seconds 0 read a cached answer")
	}
}

// TestIntrospectionOnlyAccessTokens (issue 11, item 4): an active answer
// whose token_use or token_type names another kind of token is refused as
// OAUTH_TOKEN_TYPE_INVALID, even when cached; so is a JWT whose token_use
// claim names an ID token.
func TestIntrospectionOnlyAccessTokens(t *testing.T) {
	p := newProvider(t)
	answers := map[string][]string{
		"tok-access":        {`"token_use":"access_token"`, `"token_type":"Bearer"`},
		"tok-refresh":       {`"token_use":"refresh_token"`, `"token_type":"Bearer"`}, // what Hydra answers
		"tok-refresh-type":  {`"token_type":"refresh_token"`},
		"tok-dpop":          {`"token_type":"DPoP"`},
		"tok-keycloak-refr": {`"typ":"Refresh"`},
	}
	p.set(func(p *fakeProvider) {
		p.introspect = func(w http.ResponseWriter, token string) { activeAnswer(p, answers[token]...)(w, token) }
	})
	k := newRSA(t, "k")
	p.set(func(p *fakeProvider) { p.keys = []*signer{k} })
	s := startPlugin(t)
	inst := s.StartInstance(t, introCfg(p, "token_mode", "auto", "jwks_uri", p.issuer()+"/jwks", "http_timeout_ms", 3000))
	accepted(t, inst.Access(t, bearerReq("tok-access")))
	for tok, member := range map[string]string{"tok-refresh": "refresh_token", "tok-refresh-type": "refresh_token", "tok-dpop": "DPoP", "tok-keycloak-refr": "Refresh"} {
		for i := 0; i < 2; i++ { // the second answer comes from the cache
			refused(t, inst.Access(t, bearerReq(tok)), tok, 401, "OAUTH_TOKEN_TYPE_INVALID", member)
		}
	}
	idToken := k.mint(t, claims(p.issuer(), "token_use", "id"))
	refused(t, inst.Access(t, bearerReq(idToken)), idToken, 401, "OAUTH_TOKEN_TYPE_INVALID", "token_use")
}
