package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/hydratest"
	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

// probePlugin is the differential test plugin, loaded next to the real ones.
const probePlugin = "authkit-probe"

const probeDir = "e2e/testdata/plugins/authkit-probe"

// Demo credentials of the repository's kong.yaml (README, Quickstart).
const (
	demoBasicUser, demoBasicPassword = "alice", "alice-demo-password"
	demoExpiredKey                   = "ak_demo_bob_expired_0c8d"
	demoClient, demoSecret           = "demo-client", "demo-secret"
	demoWeb, demoWebSecret           = "demo-web", "demo-web-secret"
	demoCallback                     = "http://127.0.0.1:8000/callback"
	otherCallback                    = "http://127.0.0.1:8000/other"
)

// Test credentials of the test routes.
const (
	alicePassword = "alice-pw"
	bobPassword   = "bob-pw"
	lockyPassword = "locky-pw"
	aliceKey      = "ak_test_alice_5b1f0c9e2d7a"
	aliceOldKey   = "ak_test_alice_old_77e1"
	bobKey        = "ak_test_bob_1c2d3e4f5a6b"
	expiredKey    = "ak_test_expired_9e8d"
	bundledKey    = "bundled-key-auth-bob"
	bundledUser   = "bob-bundled"
	bundledPass   = "bob-bundled-pw"
)

// fixture is one real Kong with every plugin on test routes and the
// repository's own kong.yaml, an echo upstream, the test's own OAuth
// provider, and two Ory Hydras (JWT and opaque access tokens). It is
// shared by the subtests of TestGateway, which run one after another.
type fixture struct {
	kong    *realkong.Gateway
	bin     string
	fileLog string
	up      *upstream
	prov    *provider
	signer  *signer
	hydra   *hydratest.Hydra // JWT access tokens
	opaque  *hydratest.Hydra // opaque access tokens
	// introCalls counts Hydra introspections made by the gateway.
	introCalls atomic.Int64
	// unreachable is the issuer of a route whose provider is down.
	unreachable string
	cfg         []byte
}

// sha256Key is authkit-key's stored form of a key.
func sha256Key(k string) string {
	s := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(s[:])
}

func bcryptHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := passwd.HashBcrypt([]byte(pw), passwd.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type obj = map[string]any

func plugin(name string, config obj) obj { return obj{"name": name, "config": config} }

func route(name, path string, plugins ...obj) obj {
	return obj{"name": name, "paths": []any{path}, "plugins": plugins}
}

// repoConfig returns the repository's kong.yaml with the demo hosts
// pointed at this test's upstream and Hydra: the file users run, parsed
// into a map.
func repoConfig(t testing.TB, upstreamURL, hydraURL string) obj {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kongwire.ModuleRoot(t), "kong.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "http://echo:8080", upstreamURL)
	s = strings.ReplaceAll(s, "http://127.0.0.1:4444", hydraURL)
	var m obj
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// mergeConsumer adds fields (credentials, ACL groups) to the consumer
// named username, or appends it.
func mergeConsumer(cfg obj, username string, fields obj) {
	list, _ := cfg["consumers"].([]any)
	for _, c := range list {
		if m := c.(obj); m["username"] == username {
			for k, v := range fields {
				m[k] = v
			}
			return
		}
	}
	c := obj{"username": username}
	for k, v := range fields {
		c[k] = v
	}
	cfg["consumers"] = append(list, c)
}

func marshal(t testing.TB, cfg obj) []byte {
	t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingProxy forwards every request to target (a Hydra admin
// introspection URL) and counts them.
func countingProxy(t testing.TB, target string, n *atomic.Int64) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.URL.Path = u.Path
		r.Out.Host = u.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/introspect"
}

func newFixture(t *testing.T) *fixture {
	realkong.Require(t)
	f := &fixture{bin: realkong.BuildPlugins(t, probeDir), fileLog: filepath.Join(t.TempDir(), "file-log.json")}
	f.up = newUpstream(t)
	f.signer = newSigner(t, "test-key-1")
	f.prov = newProvider(t, f.signer)
	f.hydra = hydratest.Start(t, hydratest.StrategyJWT)
	f.opaque = hydratest.Start(t, hydratest.StrategyOpaque)

	for _, h := range []*hydratest.Hydra{f.hydra, f.opaque} {
		h.CreateClient(t, hydratest.ClientSpec{ID: demoClient, Secret: demoSecret, Scope: "read write", Audience: []string{apiAudience}})
		h.CreateClient(t, hydratest.ClientSpec{ID: "writer", Secret: "writer-secret", Scope: "write", Audience: []string{apiAudience}})
	}
	f.hydra.CreateClient(t, hydratest.ClientSpec{ID: demoWeb, Secret: demoWebSecret, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scope: "openid read", RedirectURIs: []string{demoCallback, otherCallback}})

	f.cfg = marshal(t, f.config(t))
	f.kong = realkong.Start(t, realkong.Options{
		BinDir:  f.bin,
		Plugins: append(realkong.Plugins(t), probePlugin),
		Config:  f.cfg,
		Workers: 2,
	})
	f.kong.WaitStatus(t, "/t/basic", http.StatusUnauthorized, 20*time.Second)
	return f
}

// config is the shared gateway's kong.yaml: the repository's own, plus a
// route per test scenario, the consumers they map to, and Kong's bundled
// file-log on every request.
func (f *fixture) config(t testing.TB) obj {
	cfg := repoConfig(t, f.up.srv.URL, f.hydra.PublicURL())
	alice := bcryptHash(t, alicePassword)
	// One scheme and cost for all users of a route: a cheaper hash would
	// let a wrong password answer faster than an unknown user (authkit
	// check warns about it).
	basicCreds := []any{
		obj{"username": "alice", "password_hash": alice, "consumer": "alice"},
		obj{"username": "bob", "password_hash": bcryptHash(t, bobPassword), "consumer": "bob"},
		obj{"username": "locky", "password_hash": bcryptHash(t, lockyPassword), "consumer": "alice"},
		obj{"username": "ghost-user", "password_hash": alice, "consumer": "ghost"},
	}
	keyCreds := []any{
		obj{"id": "alice-key", "consumer": "alice", "key_hash": sha256Key(aliceKey)},
		obj{"id": "alice-old-key", "consumer": "alice", "key_hash": sha256Key(aliceOldKey), "expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)},
		obj{"id": "bob-key", "consumer": "bob", "key_hash": sha256Key(bobKey)},
		obj{"id": "expired-key", "consumer": "bob", "key_hash": sha256Key(expiredKey), "expires_at": "2025-01-01T00:00:00Z"},
	}
	jwtCfg := func(extra obj) obj {
		c := obj{"issuer": f.prov.issuer(), "audiences": []any{apiAudience}, "required_scopes": []any{"read"},
			"allowed_client_ids": []any{"web-app"}, "max_token_age_seconds": 3600, "realm": "api", "token_mode": "jwt",
			"consumer_claim": "client_id", "claims_to_headers": obj{"sub": "X-Token-Subject"}, "hide_credentials": true}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	broken500, brokenHTML := newProvider(t), newProvider(t)
	broken500.setJWKSMode("500")
	brokenHTML.setJWKSMode("html")
	introspect := countingProxy(t, f.opaque.IntrospectionURL(), &f.introCalls)
	f.unreachable = closedURL(t)

	routes := []any{
		route("probe", "/probe", plugin(probePlugin, obj{"mode": "access"})),
		route("probe-response", "/probe-response", plugin(probePlugin, obj{"mode": "response"})),

		route("t-basic", "/t/basic", plugin("authkit-basic", obj{"realm": "service", "credentials": basicCreds,
			"max_failures": 2, "lockout_seconds": 60})),
		route("t-basic-hide", "/t/basic-hide", plugin("authkit-basic", obj{"credentials": basicCreds[:1],
			"hide_credentials": true, "run_on_preflight": false})),
		route("t-basic-bad", "/t/basic-bad", plugin("authkit-basic", obj{"credentials": []any{
			obj{"username": "alice", "password_hash": "plaintext-password", "consumer": "alice"}}})),

		route("t-key", "/t/key", plugin("authkit-key", obj{"key_names": []any{"apikey", "x-api-key"}, "realm": "api", "credentials": keyCreds})),
		route("t-key-hide", "/t/key-hide", plugin("authkit-key", obj{"credentials": keyCreds, "hide_credentials": true, "key_in_body": true})),

		route("t-jwt", "/t/jwt", plugin("authkit-oauth", jwtCfg(nil))),
		route("t-jwt-typ", "/t/jwt-typ", plugin("authkit-oauth", jwtCfg(obj{"require_typ_at_jwt": true}))),
		route("t-jwt-query", "/t/jwt-query", plugin("authkit-oauth", jwtCfg(obj{"token_query_param": "access_token"}))),
		route("t-oauth-unreachable", "/t/oauth-unreachable", plugin("authkit-oauth", obj{"issuer": f.unreachable, "token_mode": "jwt", "http_timeout_ms": 500})),
		route("t-oauth-timeout", "/t/oauth-timeout", plugin("authkit-oauth", obj{"issuer": f.prov.issuer() + "/slow", "token_mode": "jwt", "http_timeout_ms": 300})),
		route("t-oauth-5xx", "/t/oauth-5xx", plugin("authkit-oauth", obj{"issuer": f.prov.issuer(), "jwks_uri": broken500.issuer() + "/jwks", "token_mode": "jwt"})),
		route("t-oauth-html", "/t/oauth-html", plugin("authkit-oauth", obj{"issuer": f.prov.issuer(), "jwks_uri": brokenHTML.issuer() + "/jwks", "token_mode": "jwt"})),
		route("t-oauth-clientauth", "/t/oauth-clientauth", plugin("authkit-oauth", obj{"token_mode": "introspection",
			"introspection_endpoint": f.prov.issuer() + "/introspect", "introspection_client_id": "gateway",
			"introspection_client_secret": "wrong-secret", "allowed_issuers": []any{f.prov.issuer()}})),

		route("t-hydra-jwt", "/t/hydra-jwt", plugin("authkit-oauth", obj{"issuer": f.hydra.Issuer(), "audiences": []any{apiAudience},
			"required_scopes": []any{"read"}, "consumer_claim": "client_id", "consumer_optional": true, "realm": "api"})),
		route("t-hydra-opaque", "/t/hydra-opaque", plugin("authkit-oauth", obj{"token_mode": "introspection",
			"introspection_endpoint": introspect, "introspection_auth_method": "none", "allowed_issuers": []any{f.opaque.Issuer()},
			"audiences": []any{apiAudience}, "required_scopes": []any{"read"}, "realm": "api"})),

		route("t-or-basic", "/t/or-basic",
			plugin("key-auth", obj{"anonymous": "anonymous"}),
			plugin("authkit-basic", obj{"credentials": basicCreds[:1], "anonymous": "anonymous"})),
		route("t-or-key", "/t/or-key",
			plugin("authkit-key", obj{"credentials": keyCreds, "anonymous": "anonymous"}),
			plugin("basic-auth", obj{"anonymous": "anonymous"})),
		route("t-acl", "/t/acl",
			plugin("authkit-key", obj{"credentials": keyCreds}),
			plugin("acl", obj{"allow": []any{"admins"}})),
	}
	explain := obj{"name": "t-explain", "url": f.hydra.PublicURL() + "/oauth2", "routes": []any{
		obj{"name": "t-explain-enforce", "paths": []any{"/t/explain-enforce"}, "strip_path": true, "plugins": []any{
			plugin("authkit-oauth-explain", obj{"enforce": true, "allowed_scopes": []any{"read", "write"},
				"allowed_client_ids": []any{demoClient}})}},
	}}
	htmlProvider := obj{"name": "t-html-provider", "url": f.up.srv.URL + "/oauth2-html", "routes": []any{
		obj{"name": "t-explain-html", "paths": []any{"/t/explain-html"}, "strip_path": true, "plugins": []any{
			plugin("authkit-oauth-explain", obj{"rewrite_invalid_responses": true})}},
	}}
	services, _ := cfg["services"].([]any)
	cfg["services"] = append(services, obj{"name": "t-echo", "url": f.up.srv.URL, "routes": routes}, explain, htmlProvider)

	mergeConsumer(cfg, "alice", obj{"acls": []any{obj{"group": "admins"}}})
	mergeConsumer(cfg, "bob", obj{
		"keyauth_credentials":   []any{obj{"key": bundledKey}},
		"basicauth_credentials": []any{obj{"username": bundledUser, "password": bundledPass}},
	})
	mergeConsumer(cfg, "web-app", obj{"custom_id": "web-app-custom"})
	mergeConsumer(cfg, "probe-user", obj{})
	cfg["plugins"] = []any{plugin("file-log", obj{"path": f.fileLog})}
	return cfg
}

// consumerID asks the Admin API for a consumer's id.
func (f *fixture) consumerID(t testing.TB, username string) string {
	t.Helper()
	resp, err := http.Get(f.kong.AdminURL + "/consumers/" + username)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.ID == "" {
		t.Fatalf("consumer %s: %v", username, err)
	}
	return c.ID
}

// refused checks one refusal end to end: status, the JSON body's code,
// WWW-Authenticate (exactly; "" = none), the one `authkit {…}` line in
// Kong's error.log (level, code, plugin, status) and the authkit object
// of the file-log entry of the same request must all agree.
func (f *fixture) refused(t testing.TB, r *response, plugin string, status int, code, challenge string) logEvent {
	t.Helper()
	if r.Status != status || r.bodyCode() != code {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	if got := r.Header.Get("WWW-Authenticate"); got != challenge {
		t.Fatalf("WWW-Authenticate %q, want %q", got, challenge)
	}
	return f.recorded(t, r, plugin, status, code)
}

// recorded checks the error.log line and file-log object of a request that
// an authkit plugin refused or explained.
func (f *fixture) recorded(t testing.TB, r *response, plugin string, status int, code string) logEvent {
	t.Helper()
	el := errorLogRecord(t, f.kong, r.ReqID)
	fl, entry := fileLogRecord(t, f.fileLog, r.ReqID)
	for _, ev := range []logEvent{el, fl} {
		if ev.Record.Code != code || ev.Record.Plugin != plugin || ev.Record.Status != errcode.Code(code).Status() {
			t.Fatalf("record %+v, want %s from %s\n%s", ev.Record, code, plugin, ev.Raw)
		}
	}
	want := "notice"
	if ent := errcode.Code(code).Entry(); ent.Class != errcode.ClassClient {
		want = "error" // kong.log.err
	}
	if el.Level != want {
		t.Fatalf("error.log level %q, want %q: %s", el.Level, want, el.Raw)
	}
	if el.Record.RouteID == "" || el.Record.RouteID != fl.Record.RouteID {
		t.Fatalf("route ids differ: error.log %q, file-log %q", el.Record.RouteID, fl.Record.RouteID)
	}
	if rt, _ := entry["route"].(map[string]any); rt["id"] != el.Record.RouteID {
		t.Fatalf("record route_id %q is not the route Kong logged (%v)", el.Record.RouteID, rt["id"])
	}
	if resp, _ := entry["response"].(map[string]any); resp["status"] != float64(status) {
		t.Fatalf("file-log response status %v, want %d", resp["status"], status)
	}
	if el.Record.Detail != fl.Record.Detail || el.Record.Fingerprint != fl.Record.Fingerprint {
		t.Fatalf("error.log and file-log records differ:\n%s\n%s", el.Raw, fl.Raw)
	}
	return el
}
