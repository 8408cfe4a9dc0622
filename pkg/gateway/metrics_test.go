package gateway_test

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
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

// Every path through gateway.Serve counts exactly one decision, the final one,
// or none when the plugin decided nothing.
func TestServeCountsDecisions(t *testing.T) {
	gateway.ResetConsumerCache()
	const route = "0f7e3c1a-metrics-serve"
	delta := decisionsOn(t, route)
	meta := &gateway.Meta{RouteID: route}
	ok := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return &gateway.Identity{Consumer: "alice", CredentialID: "c"}, nil
	})
	stale := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return &gateway.Identity{Consumer: "alice", CredentialID: "c", Warning: errcode.New(errcode.ProviderUnreachable, "stale keys")}, nil
	})
	bad := authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return nil, errcode.New(errcode.BasicInvalidCredentials, "")
	})
	boom := authFunc(func(*gateway.Request) (*gateway.Identity, error) { panic("boom") })
	plain := &gateway.Policy{Plugin: "p", RunOnPreflight: true}
	anon := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "anon"}
	ghost := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Anonymous: "ghost"}
	noPreflight := &gateway.Policy{Plugin: "p", RunOnPreflight: false}

	gateway.Serve(newFake(), "p", meta, prepared(plain, ok))    // accepted
	gateway.Serve(newFake(), "p", meta, prepared(plain, ok))    // accepted (warm)
	gateway.Serve(newFake(), "p", meta, prepared(plain, stale)) // accepted + warning
	gateway.Serve(newFake(), "p", meta, prepared(plain, bad))   // refused
	gateway.Serve(newFake(), "p", meta, prepared(anon, bad))    // anonymous
	gateway.Serve(newFake(), "p", meta, prepared(ghost, bad))   // the anonymous consumer is missing: refused
	gateway.Serve(newFake(), "p", meta, prepared(plain, boom))  // panic: refused INTERNAL_ERROR
	gateway.Serve(newFake(), "p", meta, func() (*gateway.Policy, gateway.Authenticator, error) { return nil, nil, errTest("bad") })
	pre := newFake()
	pre.Req.Method = "OPTIONS"
	gateway.Serve(pre, "p", meta, prepared(noPreflight, ok)) // let through undecided
	other := newFake()
	other.Req.Credential = "another-plugin"
	gateway.Serve(other, "p", meta, prepared(anon, bad)) // gateway.Kong's logical OR: undecided

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
	pol := &gateway.Policy{Plugin: "p", RunOnPreflight: true, Warnings: []string{"mixed hash costs"}}
	ok := authFunc(func(r *gateway.Request) (*gateway.Identity, error) { return &gateway.Identity{CredentialID: "c"}, nil })
	for range 3 {
		gateway.Serve(newFake(), "p", &gateway.Meta{RouteID: route}, prepared(pol, ok))
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
	meta := &gateway.Meta{RouteID: route}
	pol := func() (*gateway.Policy, error) { return &gateway.Policy{Plugin: "x"}, nil }
	run := func(fn func(x *gateway.Exchange)) { gateway.Run(newFake(), "x", meta, pol, fn) }
	run(func(x *gateway.Exchange) {}) // access with nothing to check: undecided
	run(func(x *gateway.Exchange) { x.Refuse(errcode.New(errcode.RedirectURIMismatch, "")) })
	run(func(x *gateway.Exchange) { x.Annotate(errcode.New(errcode.ClientAuthFailed, ""), "X-Authkit-Code") })
	run(func(x *gateway.Exchange) {
		x.Replace(errcode.New(errcode.ProviderInvalidResp, ""), 502, []byte("{}"), nil)
	})
	run(func(x *gateway.Exchange) {
		x.Warn(errcode.New(errcode.ProviderInvalidResp, "no-store"), "X-Authkit-Code")
	})
	run(func(x *gateway.Exchange) { x.Accept() })

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

// The memo keeps one Route per instance: a config decoded from gateway.Kong's JSON
// counts under its route_id.
func TestDecodedMetaCountsUnderItsRoute(t *testing.T) {
	const route = "0f7e3c1a-metrics-decoded"
	delta := decisionsOn(t, route)
	var plain struct {
		Realm string `json:"realm"`
	}
	var meta gateway.Meta
	if err := gateway.DecodeConfig([]byte(`{"realm":"r","route_id":"`+route+`","__seq__":3}`), &plain, &meta); err != nil {
		t.Fatal(err)
	}
	ok := authFunc(func(r *gateway.Request) (*gateway.Identity, error) { return &gateway.Identity{CredentialID: "c"}, nil })
	for range 2 {
		gateway.Serve(newFake(), "p", &meta, prepared(&gateway.Policy{Plugin: "p", RunOnPreflight: true}, ok))
	}
	if !gateway.MemoHasRoute(&meta) {
		t.Fatal("the Route is not kept in the memo")
	}
	if got := delta("authkit_decisions_total", "outcome", "accepted"); got != 2 {
		t.Errorf("accepted %v", got)
	}
}
