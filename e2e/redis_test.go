package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

// dpopSignerT is a DPoP client key (ES256).
func dpopSignerT(t *testing.T) *dpop.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(k, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRedisTwoKongNodes runs two real Kong gateways sharing one Redis
// (policy redis, the password from the gateway's environment through
// password_env and KONG_NGINX_MAIN_ENV):
//   - authkit-basic: wrong passwords spread over both nodes lock the pair
//     on both after max_failures in all;
//   - authkit-oauth: a token introspected through one node is not
//     introspected again through the other, and a DPoP proof spent on one
//     node is a replay on the other (both behind one load balancer, so the
//     proof's htu is the same URI for both).
//
// A third gateway without KONG_NGINX_MAIN_ENV proves why the setting is
// needed: its plugin process does not see the variable, and with
// fault_tolerant false it refuses with REDIS_UNAVAILABLE naming
// password_env.
func TestRedisTwoKongNodes(t *testing.T) {
	realkong.Require(t)
	const pw = "redis-e2e-password"
	srv := redistest.Start(t, redistest.Options{Password: pw})
	t.Setenv("AUTHKIT_REDIS_PASSWORD", pw) // in Kong's environment, not yet the plugin's

	var introCalls atomic.Int64
	signer := dpopSignerT(t)
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		introCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		bound := ""
		if strings.HasPrefix(r.PostFormValue("token"), "dpop-") {
			bound = fmt.Sprintf(`,"token_type":"DPoP","cnf":{"jkt":%q}`, signer.Thumbprint())
		}
		fmt.Fprintf(w, `{"active":true,"sub":"svc","client_id":"web","scope":"read","exp":%d%s}`, time.Now().Add(time.Hour).Unix(), bound)
	}))
	t.Cleanup(prov.Close)

	redis := obj{"host": "127.0.0.1", "port": srv.Port, "password_env": "AUTHKIT_REDIS_PASSWORD",
		"key_prefix": fmt.Sprintf("e2e%d:", time.Now().UnixNano()), "timeout_ms": 2000}
	terminate := plugin("request-termination", obj{"status_code": 200, "message": "ok"})
	cfg := obj{
		"_format_version": "3.0",
		"services": []any{obj{"name": "term", "url": "http://127.0.0.1:9", "routes": []any{
			route("basic-redis", "/redis/basic", terminate, plugin("authkit-basic", obj{
				"credentials":  []any{obj{"username": "alice", "password_hash": bcryptHash(t, alicePassword), "consumer": "alice"}},
				"max_failures": 3, "lockout_seconds": 60, "policy": "redis", "redis": redis, "fault_tolerant": false})),
			route("oauth-redis", "/redis/oauth", terminate, plugin("authkit-oauth", obj{
				"token_mode": "introspection", "introspection_endpoint": prov.URL + "/introspect", "introspection_client_id": "gw",
				"introspection_client_secret": "gw-secret", "policy": "redis", "redis": redis, "fault_tolerant": false})),
			route("dpop-redis", "/redis/dpop", terminate, plugin("authkit-oauth", obj{
				"token_mode": "introspection", "introspection_endpoint": prov.URL + "/introspect", "introspection_client_id": "gw",
				"introspection_client_secret": "gw-secret", "proof_of_possession_dpop": "optional",
				"policy": "redis", "redis": redis, "fault_tolerant": false})),
		}}},
		"consumers": []any{obj{"username": "alice"}},
	}
	doc, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bin := realkong.BuildPlugins(t)
	plugins := []string{"authkit-basic", "authkit-oauth"}
	// 127.0.0.2 is the load balancer in front of both nodes.
	withEnv := map[string]string{"KONG_NGINX_MAIN_ENV": "AUTHKIT_REDIS_PASSWORD", "KONG_TRUSTED_IPS": "127.0.0.2"}
	a := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: plugins, Config: doc, Env: withEnv})
	b := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: plugins, Config: doc, Env: withEnv})

	t.Run("lockout across two Kong nodes", func(t *testing.T) {
		for i, g := range []*realkong.Gateway{a, b, a} {
			if r := get(t, g, "/redis/basic", "Authorization", basicAuth("alice", fmt.Sprintf("wrong-%d", i))); r.Status != 401 || r.bodyCode() != "BASIC_INVALID_CREDENTIALS" {
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		for _, g := range []*realkong.Gateway{b, a} {
			r := get(t, g, "/redis/basic", "Authorization", basicAuth("alice", alicePassword))
			if r.Status != 429 || r.bodyCode() != "BASIC_LOCKED_OUT" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("after 3 failures over two nodes, the right password: %d %s", r.Status, r.Body)
			}
		}
	})
	t.Run("one introspection across two Kong nodes", func(t *testing.T) {
		before := introCalls.Load()
		for _, g := range []*realkong.Gateway{a, b, b, a} {
			if r := get(t, g, "/redis/oauth", "Authorization", "Bearer opaque-token-shared-by-nodes"); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
		if n := introCalls.Load() - before; n != 1 {
			t.Fatalf("two Kong nodes introspected one token %d times, want 1", n)
		}
	})
	t.Run("a DPoP proof spent on one Kong node is a replay on the other", func(t *testing.T) {
		const tok, uri = "dpop-opaque-token", "https://api.example.test/redis/dpop"
		lb := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
		for i := 0; i < 3; i++ {
			p, err := signer.Proof("GET", uri, tok, "")
			if err != nil {
				t.Fatal(err)
			}
			h := hdr("Authorization", "DPoP "+tok, "DPoP", p,
				"X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example.test", "X-Forwarded-Port", "443")
			first, second := a, b
			if i%2 == 1 {
				first, second = b, a
			}
			if r := do(t, lb, "GET", first.ProxyURL+"/redis/dpop", h); r.Status != 200 {
				t.Fatalf("proof %d on its first node: %d %s", i, r.Status, r.Body)
			}
			r := do(t, lb, "GET", second.ProxyURL+"/redis/dpop", h)
			if r.Status != 401 || r.bodyCode() != "OAUTH_DPOP_PROOF_REPLAYED" {
				t.Fatalf("proof %d replayed on the other node: %d %s", i, r.Status, r.Body)
			}
		}
	})
	t.Run("without KONG_NGINX_MAIN_ENV the plugin does not see password_env", func(t *testing.T) {
		c := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: plugins, Config: doc})
		r := get(t, c, "/redis/basic", "Authorization", basicAuth("alice", alicePassword))
		if r.Status != 503 || r.bodyCode() != "REDIS_UNAVAILABLE" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		ev := errorLogRecord(t, c, r.ReqID)
		if !strings.Contains(ev.Record.Detail, "AUTHKIT_REDIS_PASSWORD is not set in the plugin process") {
			t.Fatalf("the log does not name password_env: %s", ev.Raw)
		}
	})
}
