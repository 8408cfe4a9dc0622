package gateway

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// decisionsOn enables the process-wide metrics and returns a function
// reading how much a decisions_total series of route grew since.
func decisionsOn(t *testing.T, route string) func(metric string, labels ...string) float64 {
	t.Helper()
	metrics.Enable("gateway-test", "0.0.0")
	before := promtest.Gather(t, metrics.Gatherer())
	return func(metric string, labels ...string) float64 {
		t.Helper()
		m := map[string]string{"route_id": route}
		for i := 0; i+1 < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		after := promtest.Gather(t, metrics.Gatherer())
		return after.Sum(metric, m) - before.Sum(metric, m)
	}
}

// Every path through Serve counts exactly one decision, the final one,
// or none when the plugin decided nothing.
func TestServeCountsDecisions(t *testing.T) {
	resetConsumerCache()
	const route = "0f7e3c1a-metrics-serve"
	delta := decisionsOn(t, route)
	meta := &Meta{RouteID: route}
	ok := authFunc(func(r *Request) (*Identity, error) { return &Identity{Consumer: "alice", CredentialID: "c"}, nil })
	stale := authFunc(func(r *Request) (*Identity, error) {
		return &Identity{Consumer: "alice", CredentialID: "c", Warning: errcode.New(errcode.ProviderUnreachable, "stale keys")}, nil
	})
	bad := authFunc(func(r *Request) (*Identity, error) { return nil, errcode.New(errcode.BasicInvalidCredentials, "") })
	boom := authFunc(func(*Request) (*Identity, error) { panic("boom") })
	plain := &Policy{Plugin: "p", RunOnPreflight: true}
	anon := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon"}
	ghost := &Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "ghost"}
	noPreflight := &Policy{Plugin: "p", RunOnPreflight: false}

	Serve(newFake(), "p", meta, prepared(plain, ok))    // accepted
	Serve(newFake(), "p", meta, prepared(plain, ok))    // accepted (warm)
	Serve(newFake(), "p", meta, prepared(plain, stale)) // accepted + warning
	Serve(newFake(), "p", meta, prepared(plain, bad))   // refused
	Serve(newFake(), "p", meta, prepared(anon, bad))    // anonymous
	Serve(newFake(), "p", meta, prepared(ghost, bad))   // the anonymous consumer is missing: refused
	Serve(newFake(), "p", meta, prepared(plain, boom))  // panic: refused INTERNAL_ERROR
	Serve(newFake(), "p", meta, func() (*Policy, Authenticator, error) { return nil, nil, errTest("bad") })
	pre := newFake()
	pre.method = "OPTIONS"
	Serve(pre, "p", meta, prepared(noPreflight, ok)) // let through undecided
	other := newFake()
	other.credential = "another-plugin"
	Serve(other, "p", meta, prepared(anon, bad)) // Kong's logical OR: undecided

	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"outcome", "accepted", "code", ""}, 3},
		{[]string{"outcome", "refused", "code", "BASIC_INVALID_CREDENTIALS"}, 1},
		{[]string{"outcome", "anonymous", "code", "BASIC_INVALID_CREDENTIALS"}, 1},
		{[]string{"outcome", "refused", "code", "CONSUMER_NOT_FOUND"}, 1},
		{[]string{"outcome", "refused", "code", "INTERNAL_ERROR"}, 1},
		{[]string{"outcome", "refused", "code", "CONFIG_INVALID"}, 1},
		{[]string{"plugin", "p"}, 8},
	} {
		if got := delta("authkit_decisions_total", c.labels...); got != c.want {
			t.Errorf("decisions %v: %v, want %v", c.labels, got, c.want)
		}
	}
	if got := delta("authkit_warnings_total", "code", "OAUTH_PROVIDER_UNREACHABLE"); got != 1 {
		t.Errorf("warnings: %v", got)
	}
}

// A compiled config's warnings are counted once, like their log line.
func TestConfigWarningsCounted(t *testing.T) {
	const route = "0f7e3c1a-metrics-warn"
	delta := decisionsOn(t, route)
	pol := &Policy{Plugin: "p", RunOnPreflight: true, Warnings: []string{"mixed hash costs"}}
	ok := authFunc(func(r *Request) (*Identity, error) { return &Identity{CredentialID: "c"}, nil })
	for range 3 {
		Serve(newFake(), "p", &Meta{RouteID: route}, prepared(pol, ok))
	}
	if got := delta("authkit_warnings_total", "code", "CONFIG_INVALID"); got != 1 {
		t.Errorf("config warnings counted %v times, want 1", got)
	}
	if got := delta("authkit_decisions_total", "outcome", "accepted"); got != 3 {
		t.Errorf("accepted %v", got)
	}
}

// authkit-oauth-explain's outcomes: a refusal before the provider, an
// explained provider error, an answer replaced, a warning about a usable
// answer, a clean answer.
func TestExchangeCountsDecisions(t *testing.T) {
	const route = "0f7e3c1a-metrics-exchange"
	delta := decisionsOn(t, route)
	meta := &Meta{RouteID: route}
	pol := func() (*Policy, error) { return &Policy{Plugin: "x"}, nil }
	run := func(fn func(x *Exchange)) { Run(newFake(), "x", meta, pol, fn) }
	run(func(x *Exchange) {}) // access with nothing to check: undecided
	run(func(x *Exchange) { x.Refuse(errcode.New(errcode.RedirectURIMismatch, "")) })
	run(func(x *Exchange) { x.Annotate(errcode.New(errcode.ClientAuthFailed, ""), "X-Authkit-Code") })
	run(func(x *Exchange) {
		x.Replace(errcode.New(errcode.ProviderInvalidResp, ""), 502, []byte("{}"), nil)
	})
	run(func(x *Exchange) { x.Warn(errcode.New(errcode.ProviderInvalidResp, "no-store"), "X-Authkit-Code") })
	run(func(x *Exchange) { x.Accept() })

	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"outcome", "refused", "code", "OAUTH_REDIRECT_URI_MISMATCH"}, 1},
		{[]string{"outcome", "refused", "code", "OAUTH_CLIENT_AUTH_FAILED"}, 1},
		{[]string{"outcome", "refused", "code", "OAUTH_PROVIDER_INVALID_RESPONSE"}, 1},
		{[]string{"outcome", "accepted", "code", ""}, 2},
		{[]string{"plugin", "x"}, 5},
	} {
		if got := delta("authkit_decisions_total", c.labels...); got != c.want {
			t.Errorf("decisions %v: %v, want %v", c.labels, got, c.want)
		}
	}
	if got := delta("authkit_warnings_total", "code", "OAUTH_PROVIDER_INVALID_RESPONSE"); got != 1 {
		t.Errorf("warnings: %v", got)
	}
}

// The memo keeps one Route per instance: a config decoded from Kong's JSON
// counts under its route_id.
func TestDecodedMetaCountsUnderItsRoute(t *testing.T) {
	const route = "0f7e3c1a-metrics-decoded"
	delta := decisionsOn(t, route)
	var plain struct {
		Realm string `json:"realm"`
	}
	var meta Meta
	if err := DecodeConfig([]byte(`{"realm":"r","route_id":"`+route+`","__seq__":3}`), &plain, &meta); err != nil {
		t.Fatal(err)
	}
	ok := authFunc(func(r *Request) (*Identity, error) { return &Identity{CredentialID: "c"}, nil })
	for range 2 {
		Serve(newFake(), "p", &meta, prepared(&Policy{Plugin: "p", RunOnPreflight: true}, ok))
	}
	if meta.memo.route.Load() == nil {
		t.Fatal("the Route is not kept in the memo")
	}
	if got := delta("authkit_decisions_total", "outcome", "accepted"); got != 2 {
		t.Errorf("accepted %v", got)
	}
}
