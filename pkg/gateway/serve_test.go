package gateway

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

type authFunc func(r *Request) (*Identity, error)

func (f authFunc) Authenticate(r *Request) (*Identity, error) { return f(r) }

func prepared(p *Policy, a Authenticator) Prepare {
	return func() (*Policy, Authenticator, error) { return p, a, nil }
}

func newFake() *fakeKong {
	alice := Consumer{ID: "8a2c7c43-1c8e-4b0e-9d4a-1b1b1b1b1b1b", Username: "alice", CustomID: "c-1"}
	anon := Consumer{ID: "0d3c1c43-1c8e-4b0e-9d4a-2b2b2b2b2b2b", Username: "anon"}
	return &fakeKong{
		headers:   map[string][]string{"x-consumer-id": {"spoofed"}},
		consumers: map[string]Consumer{"alice": alice, alice.ID: alice, "anon": anon},
	}
}

func resetConsumerCache() { consumers.Purge() }

func TestSuccessSetsAndClearsIdentityHeaders(t *testing.T) {
	resetConsumerCache()
	f := newFake()
	pol := &Policy{Plugin: "p", RunOnPreflight: true}
	ok := authFunc(func(r *Request) (*Identity, error) {
		return &Identity{Consumer: "alice", CredentialID: "cred-1", Headers: map[string]string{"Authorization": ""}}, nil
	})
	Serve(f, "p", &Meta{}, prepared(pol, ok))
	if f.exited {
		t.Fatalf("success must not exit: %s", f.body)
	}
	want := map[string]string{
		HeaderConsumerID: "8a2c7c43-1c8e-4b0e-9d4a-1b1b1b1b1b1b", HeaderConsumerUsername: "alice", HeaderConsumerCustomID: "c-1",
		HeaderCredentialIdentity: "cred-1", HeaderAnonymousConsumer: "", "Authorization": "",
	}
	for k, v := range want {
		if got, present := f.upstream[k]; !present || got != v {
			t.Errorf("upstream %s = %q (present %v), want %q", k, got, present, v)
		}
	}
	if f.callList() != "get_headers,load_consumer,authenticate,set_headers" {
		t.Errorf("calls: %s", f.callList())
	}
	// Warm: the consumer comes from the cache, no load_consumer.
	f2 := newFake()
	Serve(f2, "p", &Meta{}, prepared(pol, ok))
	if f2.callList() != "get_headers,authenticate,set_headers" {
		t.Errorf("warm calls: %s", f2.callList())
	}
}

// Headers Kong could not hand over (go-pdk refuses a value that is not
// UTF-8) refuse the request: every header would otherwise look absent.
func TestUnreadableHeadersRefuse(t *testing.T) {
	f := newFake()
	f.headersErr = errors.New("string field contains invalid UTF-8")
	pol := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon"}
	Serve(f, "p", &Meta{}, prepared(pol, authFunc(func(*Request) (*Identity, error) { t.Fatal("must not run"); return nil, nil })))
	if !f.exited || f.status != 500 || !strings.Contains(string(f.body), "INTERNAL_ERROR") {
		t.Fatalf("%d %s (calls %s)", f.status, f.body, f.callList())
	}
}

func TestRefusalShape(t *testing.T) {
	resetConsumerCache()
	f := newFake()
	pol := &Policy{Plugin: "authkit-basic", RunOnPreflight: true, Challenge: BasicChallenge(`se"r\vice`)}
	bad := authFunc(func(r *Request) (*Identity, error) {
		_ = r.Header("Authorization")
		return nil, errcode.New(errcode.BasicInvalidCredentials, "wrong").With("credential", "abcd1234").With("n", 2)
	})
	Serve(f, "authkit-basic", &Meta{RouteID: "r1"}, prepared(pol, bad))
	if f.status != 401 {
		t.Fatalf("status %d", f.status)
	}
	var body map[string]string
	if err := json.Unmarshal(f.body, &body); err != nil || body["code"] != "BASIC_INVALID_CREDENTIALS" || body["message"] == "" {
		t.Fatalf("body %s (%v)", f.body, err)
	}
	if got := f.respHeaders["WWW-Authenticate"]; len(got) != 1 || got[0] != `Basic realm="service", charset="UTF-8"` {
		t.Fatalf("challenge %q (quotes and backslashes must be stripped)", got)
	}
	if len(f.logs) != 1 || !strings.HasPrefix(f.logs[0], "notice authkit {") {
		t.Fatalf("logs %q", f.logs)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(f.logs[0], "notice authkit ")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["code"] != "BASIC_INVALID_CREDENTIALS" || rec["credential"] != "abcd1234" || rec["route_id"] != "r1" || rec["plugin"] != "authkit-basic" {
		t.Fatalf("record %v", rec)
	}
	if f.serialized["code"] != "BASIC_INVALID_CREDENTIALS" {
		t.Fatalf("serialize %v", f.serialized)
	}
	if f.callList() != "get_headers,log.notice,set_serialize_value,exit" {
		t.Fatalf("calls %s", f.callList())
	}
}

func TestProviderFailureLoggedAtErrAndNeverAnonymous(t *testing.T) {
	resetConsumerCache()
	f := newFake()
	pol := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon", LogLevel: "info"}
	down := authFunc(func(r *Request) (*Identity, error) { return nil, errcode.New(errcode.ProviderUnreachable, "dial") })
	Serve(f, "p", &Meta{}, prepared(pol, down))
	if f.status != 503 || !strings.HasPrefix(f.logs[0], "err ") {
		t.Fatalf("status %d logs %q", f.status, f.logs)
	}
}

func TestAnonymousFallbackAndLogicalOR(t *testing.T) {
	resetConsumerCache()
	pol := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon"}
	bad := authFunc(func(r *Request) (*Identity, error) { return nil, errcode.New(errcode.BasicMissing, "") })

	f := newFake()
	Serve(f, "p", &Meta{}, prepared(pol, bad))
	if f.exited || f.upstream[HeaderAnonymousConsumer] != "true" || f.upstream[HeaderConsumerUsername] != "anon" || f.upstream[HeaderCredentialIdentity] != "" {
		t.Fatalf("anonymous: exited=%v upstream=%v", f.exited, f.upstream)
	}
	if f.serialized["anonymous"] != "true" {
		t.Fatalf("serialize %v", f.serialized)
	}

	f = newFake()
	f.credential = "other-plugin-cred"
	Serve(f, "p", &Meta{}, prepared(pol, bad))
	if f.callList() != "get_credential" {
		t.Fatalf("already authenticated: calls %s", f.callList())
	}

	f = newFake()
	f.credential = "other-plugin-cred"
	owning := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon", OwnedHeaders: []string{"X-Authenticated-Scope"}}
	Serve(f, "p", &Meta{}, prepared(owning, bad))
	if f.callList() != "get_credential,set_headers" || f.upstream["X-Authenticated-Scope"] != "" {
		t.Fatalf("owned headers not cleared on the logical-OR path: %s %v", f.callList(), f.upstream)
	}
	if _, present := f.upstream["X-Authenticated-Scope"]; !present {
		t.Fatal("owned header not sent for clearing")
	}

	f = newFake()
	missing := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "ghost"}
	Serve(f, "p", &Meta{}, prepared(missing, bad))
	if f.status != 500 || !strings.Contains(string(f.body), "CONSUMER_NOT_FOUND") {
		t.Fatalf("missing anonymous consumer: %d %s", f.status, f.body)
	}
}

func TestPreflight(t *testing.T) {
	f := newFake()
	f.method = "OPTIONS"
	pol := &Policy{Plugin: "p", RunOnPreflight: false}
	Serve(f, "p", &Meta{}, prepared(pol, authFunc(func(*Request) (*Identity, error) { t.Fatal("must not run"); return nil, nil })))
	if f.exited || f.callList() != "get_method,get_credential,set_headers" {
		t.Fatalf("calls %s", f.callList())
	}
	// Issue 11 item 8: the preflight passes, but no client-set identity.
	for _, h := range []string{HeaderConsumerID, HeaderConsumerCustomID, HeaderConsumerUsername, HeaderCredentialIdentity, HeaderAnonymousConsumer} {
		if v, ok := f.upstream[h]; !ok || v != "" {
			t.Errorf("%s not cleared on preflight: %v", h, f.upstream)
		}
	}

	// An earlier plugin authenticated: only the plugin's own headers go.
	f = newFake()
	f.method, f.credential = "OPTIONS", "cred-1"
	pol = &Policy{Plugin: "p", OwnedHeaders: []string{"X-Authenticated-Scope"}}
	Serve(f, "p", &Meta{}, prepared(pol, authFunc(func(*Request) (*Identity, error) { t.Fatal("must not run"); return nil, nil })))
	if _, ok := f.upstream[HeaderConsumerID]; ok || f.upstream["X-Authenticated-Scope"] != "" || len(f.upstream) != 1 {
		t.Fatalf("upstream %v", f.upstream)
	}
}

func TestPanicAndConfigErrorFailClosed(t *testing.T) {
	f := newFake()
	boom := authFunc(func(*Request) (*Identity, error) { var m map[string]int; m["x"]++; return nil, nil })
	Serve(f, "p", &Meta{}, prepared(&Policy{Plugin: "p", RunOnPreflight: true}, boom))
	if f.status != 500 || !strings.Contains(string(f.body), "INTERNAL_ERROR") || !strings.Contains(f.logs[0], "panic") {
		t.Fatalf("panic: %d %s %q", f.status, f.body, f.logs)
	}

	f = newFake()
	Serve(f, "p", &Meta{}, func() (*Policy, Authenticator, error) {
		return nil, nil, errTest("credentials[0].password_hash: plaintext")
	})
	if f.status != 500 || !strings.Contains(string(f.body), "CONFIG_INVALID") || !strings.Contains(f.logs[0], "credentials[0].password_hash") {
		t.Fatalf("config: %d %s %q", f.status, f.body, f.logs)
	}
	if strings.Contains(string(f.body), "password_hash") {
		t.Fatal("operator detail leaked into the client body")
	}

	f = newFake()
	Serve(f, "p", &Meta{}, prepared(&Policy{Plugin: "p", RunOnPreflight: true}, authFunc(func(*Request) (*Identity, error) { return nil, nil })))
	if f.status != 500 {
		t.Fatalf("nil identity must be refused, got %d", f.status)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestBearerChallenge(t *testing.T) {
	c := BearerChallenge("api")
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
	var a, b Meta
	type cfg struct {
		X string `json:"x"`
	}
	if err := DecodeConfig([]byte(`{"x":"1","__seq__":1}`), &cfg{}, &a); err != nil {
		t.Fatal(err)
	}
	if err := DecodeConfig([]byte(`{"x":"1","__seq__":2,"route_id":"r"}`), &cfg{}, &b); err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != b.Fingerprint || b.RouteID != "r" {
		t.Fatalf("fingerprints differ on Kong-only keys: %s %s", a.Fingerprint, b.Fingerprint)
	}
	n := 0
	build := func() (int, error) { n++; return 42, nil }
	for i := 0; i < 3; i++ {
		if v, err := Compile("t", &a, build); v != 42 || err != nil {
			t.Fatal(v, err)
		}
	}
	if _, _ = Compile("t", &b, build); n != 1 {
		t.Fatalf("compiled %d times, want once", n)
	}
}

// TestConsumerCacheBindsWorkspace: the process-wide consumer cache must
// not answer a lookup in one workspace with a consumer of another (the
// cache-key rule of issue 11, item 1).
func TestConsumerCacheBindsWorkspace(t *testing.T) {
	resetConsumerCache()
	pol := &Policy{Plugin: "p", RunOnPreflight: true}
	ok := authFunc(func(r *Request) (*Identity, error) { return &Identity{Consumer: "alice", CredentialID: "c"}, nil })
	Serve(newFake(), "p", &Meta{WorkspaceID: "ws-a"}, prepared(pol, ok))
	other := newFake()
	otherAlice := Consumer{ID: "5b5b5b5b-1c8e-4b0e-9d4a-1b1b1b1b1b1b", Username: "alice"}
	other.consumers["alice"] = otherAlice
	Serve(other, "p", &Meta{WorkspaceID: "ws-b"}, prepared(pol, ok))
	if other.authCons == nil || other.authCons.ID != otherAlice.ID || !strings.Contains(other.callList(), "load_consumer") {
		t.Fatalf("workspace ws-b was served ws-a's consumer: %+v (calls %s)", other.authCons, other.callList())
	}
}
