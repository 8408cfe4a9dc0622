package gateway_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/gateway/gatewaytest"
)

type authFunc func(r *gateway.Request) (*gateway.Identity, error)

func (f authFunc) Authenticate(r *gateway.Request) (*gateway.Identity, error) { return f(r) }

func prepared(p *gateway.Policy, a gateway.Authenticator) gateway.Prepare {
	return func() (*gateway.Policy, gateway.Authenticator, error) { return p, a, nil }
}

// newFake is a Kong whose request carries a spoofed X-Consumer-ID, with
// the consumers alice (by id and username) and anon (by username).
func newFake() *gatewaytest.Kong {
	alice := gateway.Consumer{ID: "8a2c7c43-1c8e-4b0e-9d4a-1b1b1b1b1b1b", Username: "alice", CustomID: "c-1"}
	anon := gateway.Consumer{ID: "0d3c1c43-1c8e-4b0e-9d4a-2b2b2b2b2b2b", Username: "anon"}
	k := gatewaytest.New(gatewaytest.Request{Headers: map[string][]string{"x-consumer-id": {"spoofed"}}})
	k.Consumers = map[string]gateway.Consumer{"alice": alice, alice.ID: alice, "anon": anon}
	return k
}

func TestSuccessSetsAndClearsIdentityHeaders(t *testing.T) {
	gateway.ResetConsumerCache()
	f := newFake()
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: true}
	ok := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return &gateway.Identity{Consumer: "alice", CredentialID: "cred-1", Headers: map[string]string{"Authorization": ""}}, nil
	})
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, ok))
	if f.Exited {
		t.Fatalf("success must not exit: %s", f.Body)
	}
	want := map[string]string{
		gateway.HeaderConsumerID: "8a2c7c43-1c8e-4b0e-9d4a-1b1b1b1b1b1b", gateway.HeaderConsumerUsername: "alice", gateway.HeaderConsumerCustomID: "c-1",
		gateway.HeaderCredentialIdentity: "cred-1", gateway.HeaderAnonymousConsumer: "", "Authorization": "",
	}
	for k, v := range want {
		if got, present := f.Upstream[k]; !present || got != v {
			t.Errorf("upstream %s = %q (present %v), want %q", k, got, present, v)
		}
	}
	if f.CallList() != "get_headers,load_consumer,authenticate,set_headers" {
		t.Errorf("calls: %s", f.CallList())
	}
	// Warm: the consumer comes from the cache, no load_consumer.
	f2 := newFake()
	gateway.Serve(f2, "p", &gateway.Meta{}, prepared(pol, ok))
	if f2.CallList() != "get_headers,authenticate,set_headers" {
		t.Errorf("warm calls: %s", f2.CallList())
	}
}

// Headers Kong could not hand over (go-pdk refuses a value that is not
// UTF-8) refuse the request: every header would otherwise look absent.
func TestUnreadableHeadersRefuse(t *testing.T) {
	f := newFake()
	f.Req.HeadersErr = errors.New("string field contains invalid UTF-8")
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon"}
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, authFunc(func(*gateway.Request) (*gateway.Identity, error) { t.Fatal("must not run"); return nil, nil })))
	if !f.Exited || f.Status != 500 || !strings.Contains(string(f.Body), "INTERNAL_ERROR") {
		t.Fatalf("%d %s (calls %s)", f.Status, f.Body, f.CallList())
	}
}

func TestRefusalShape(t *testing.T) {
	gateway.ResetConsumerCache()
	f := newFake()
	pol := &gateway.Policy{Plugin: "authkit-basic", RunOnPreflight: true, Challenge: gateway.BasicChallenge(`se"r\vice`)}
	bad := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		_ = r.Header("Authorization")
		return nil, errcode.New(errcode.BasicInvalidCredentials, "wrong").With("credential", "abcd1234").With("n", 2)
	})
	gateway.Serve(f, "authkit-basic", &gateway.Meta{RouteID: "r1"}, prepared(pol, bad))
	if f.Status != 401 {
		t.Fatalf("status %d", f.Status)
	}
	var body map[string]string
	if err := json.Unmarshal(f.Body, &body); err != nil || body["code"] != "BASIC_INVALID_CREDENTIALS" || body["message"] == "" {
		t.Fatalf("body %s (%v)", f.Body, err)
	}
	if got := f.ExitHeaders["WWW-Authenticate"]; len(got) != 1 || got[0] != `Basic realm="service", charset="UTF-8"` {
		t.Fatalf("challenge %q (quotes and backslashes must be stripped)", got)
	}
	if len(f.Logs) != 1 || !strings.HasPrefix(f.Logs[0], "notice authkit {") {
		t.Fatalf("logs %q", f.Logs)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(f.Logs[0], "notice authkit ")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["code"] != "BASIC_INVALID_CREDENTIALS" || rec["credential"] != "abcd1234" || rec["route_id"] != "r1" || rec["plugin"] != "authkit-basic" {
		t.Fatalf("record %v", rec)
	}
	if f.Serialized["code"] != "BASIC_INVALID_CREDENTIALS" {
		t.Fatalf("serialize %v", f.Serialized)
	}
	if f.CallList() != "get_headers,log.notice,set_serialize_value,exit" {
		t.Fatalf("calls %s", f.CallList())
	}
}

func TestProviderFailureLoggedAtErrAndNeverAnonymous(t *testing.T) {
	gateway.ResetConsumerCache()
	f := newFake()
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon", LogLevel: "info"}
	down := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return nil, errcode.New(errcode.ProviderUnreachable, "dial")
	})
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, down))
	if f.Status != 503 || !strings.HasPrefix(f.Logs[0], "err ") {
		t.Fatalf("status %d logs %q", f.Status, f.Logs)
	}
}

func TestAnonymousFallbackAndLogicalOR(t *testing.T) {
	gateway.ResetConsumerCache()
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon"}
	bad := authFunc(func(r *gateway.Request) (*gateway.Identity, error) { return nil, errcode.New(errcode.BasicMissing, "") })

	f := newFake()
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, bad))
	if f.Exited || f.Upstream[gateway.HeaderAnonymousConsumer] != "true" || f.Upstream[gateway.HeaderConsumerUsername] != "anon" || f.Upstream[gateway.HeaderCredentialIdentity] != "" {
		t.Fatalf("anonymous: exited=%v upstream=%v", f.Exited, f.Upstream)
	}
	if f.Serialized["anonymous"] != "true" {
		t.Fatalf("serialize %v", f.Serialized)
	}

	f = newFake()
	f.Req.Credential = "other-plugin-cred"
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, bad))
	if f.CallList() != "get_credential" {
		t.Fatalf("already authenticated: calls %s", f.CallList())
	}

	f = newFake()
	f.Req.Credential = "other-plugin-cred"
	owning := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon", OwnedHeaders: []string{"X-Authenticated-Scope"}}
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(owning, bad))
	if f.CallList() != "get_credential,set_headers" || f.Upstream["X-Authenticated-Scope"] != "" {
		t.Fatalf("owned headers not cleared on the logical-OR path: %s %v", f.CallList(), f.Upstream)
	}
	if _, present := f.Upstream["X-Authenticated-Scope"]; !present {
		t.Fatal("owned header not sent for clearing")
	}

	f = newFake()
	missing := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "ghost"}
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(missing, bad))
	if f.Status != 500 || !strings.Contains(string(f.Body), "CONSUMER_NOT_FOUND") {
		t.Fatalf("missing anonymous consumer: %d %s", f.Status, f.Body)
	}
}

func TestPreflight(t *testing.T) {
	f := newFake()
	f.Req.Method = "OPTIONS"
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: false}
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, authFunc(func(*gateway.Request) (*gateway.Identity, error) { t.Fatal("must not run"); return nil, nil })))
	if f.Exited || f.CallList() != "get_method,get_credential,set_headers" {
		t.Fatalf("calls %s", f.CallList())
	}
	// Issue 11 item 8: the preflight passes, but no client-set identity.
	for _, h := range []string{gateway.HeaderConsumerID, gateway.HeaderConsumerCustomID, gateway.HeaderConsumerUsername, gateway.HeaderCredentialIdentity, gateway.HeaderAnonymousConsumer} {
		if v, ok := f.Upstream[h]; !ok || v != "" {
			t.Errorf("%s not cleared on preflight: %v", h, f.Upstream)
		}
	}

	// An earlier plugin authenticated: only the plugin's own headers go.
	f = newFake()
	f.Req.Method, f.Req.Credential = "OPTIONS", "cred-1"
	pol = &gateway.Policy{Plugin: "p", OwnedHeaders: []string{"X-Authenticated-Scope"}}
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(pol, authFunc(func(*gateway.Request) (*gateway.Identity, error) { t.Fatal("must not run"); return nil, nil })))
	if _, ok := f.Upstream[gateway.HeaderConsumerID]; ok || f.Upstream["X-Authenticated-Scope"] != "" || len(f.Upstream) != 1 {
		t.Fatalf("upstream %v", f.Upstream)
	}
}

func TestPanicAndConfigErrorFailClosed(t *testing.T) {
	f := newFake()
	boom := authFunc(func(*gateway.Request) (*gateway.Identity, error) { var m map[string]int; m["x"]++; return nil, nil })
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(&gateway.Policy{Plugin: "p", RunOnPreflight: true}, boom))
	if f.Status != 500 || !strings.Contains(string(f.Body), "INTERNAL_ERROR") || !strings.Contains(f.Logs[0], "panic") {
		t.Fatalf("panic: %d %s %q", f.Status, f.Body, f.Logs)
	}

	f = newFake()
	gateway.Serve(f, "p", &gateway.Meta{}, func() (*gateway.Policy, gateway.Authenticator, error) {
		return nil, nil, errTest("credentials[0].password_hash: plaintext")
	})
	if f.Status != 500 || !strings.Contains(string(f.Body), "CONFIG_INVALID") || !strings.Contains(f.Logs[0], "credentials[0].password_hash") {
		t.Fatalf("config: %d %s %q", f.Status, f.Body, f.Logs)
	}
	if strings.Contains(string(f.Body), "password_hash") {
		t.Fatal("operator detail leaked into the client body")
	}

	f = newFake()
	gateway.Serve(f, "p", &gateway.Meta{}, prepared(&gateway.Policy{Plugin: "p", RunOnPreflight: true}, authFunc(func(*gateway.Request) (*gateway.Identity, error) { return nil, nil })))
	if f.Status != 500 {
		t.Fatalf("nil identity must be refused, got %d", f.Status)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestBearerChallenge(t *testing.T) {
	c := gateway.BearerChallenge("api")
	tests := []struct {
		err  *errcode.Error
		want string
	}{
		{errcode.New(errcode.TokenMissing, ""), `Bearer realm="api"`},
		{errcode.New(errcode.TokenExpired, ""), `Bearer realm="api", error="invalid_token", error_description="The access token has expired.", error_code="OAUTH_TOKEN_EXPIRED"`},
		{errcode.New(errcode.InsufficientScope, "").With("required_scope", `read "write"`), `Bearer realm="api", error="insufficient_scope", error_description="The access token does not carry the required scope.", scope="read write", error_code="OAUTH_INSUFFICIENT_SCOPE"`},
		{errcode.New(errcode.RequestInvalid, ""), `Bearer realm="api", error="invalid_request", error_description="The request is malformed: send exactly one bearer token in the Authorization header.", error_code="OAUTH_REQUEST_INVALID"`},
		{errcode.New(errcode.ProviderUnreachable, ""), ``},
	}
	for _, tt := range tests {
		if got := c(tt.err); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.err.Code, got, tt.want)
		}
	}
}

func TestCompileOncePerFingerprint(t *testing.T) {
	var a, b gateway.Meta
	type cfg struct {
		X string `json:"x"`
	}
	if err := gateway.DecodeConfig([]byte(`{"x":"1","__seq__":1}`), &cfg{}, &a); err != nil {
		t.Fatal(err)
	}
	if err := gateway.DecodeConfig([]byte(`{"x":"1","__seq__":2,"route_id":"r"}`), &cfg{}, &b); err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != b.Fingerprint || b.RouteID != "r" {
		t.Fatalf("fingerprints differ on Kong-only keys: %s %s", a.Fingerprint, b.Fingerprint)
	}
	n := 0
	build := func() (int, error) { n++; return 42, nil }
	for i := 0; i < 3; i++ {
		if v, err := gateway.Compile("t", &a, build); v != 42 || err != nil {
			t.Fatal(v, err)
		}
	}
	if _, _ = gateway.Compile("t", &b, build); n != 1 {
		t.Fatalf("compiled %d times, want once", n)
	}
}

// TestConsumerCacheBindsWorkspace: the process-wide consumer cache must
// not answer a lookup in one workspace with a consumer of another (the
// cache-key rule of issue 11, item 1).
func TestConsumerCacheBindsWorkspace(t *testing.T) {
	gateway.ResetConsumerCache()
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: true}
	ok := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return &gateway.Identity{Consumer: "alice", CredentialID: "c"}, nil
	})
	gateway.Serve(newFake(), "p", &gateway.Meta{WorkspaceID: "ws-a"}, prepared(pol, ok))
	other := newFake()
	otherAlice := gateway.Consumer{ID: "5b5b5b5b-1c8e-4b0e-9d4a-1b1b1b1b1b1b", Username: "alice"}
	other.Consumers["alice"] = otherAlice
	gateway.Serve(other, "p", &gateway.Meta{WorkspaceID: "ws-b"}, prepared(pol, ok))
	if other.AuthConsumer == nil || other.AuthConsumer.ID != otherAlice.ID || !strings.Contains(other.CallList(), "load_consumer") {
		t.Fatalf("workspace ws-b was served ws-a's consumer: %+v (calls %s)", other.AuthConsumer, other.CallList())
	}
}
