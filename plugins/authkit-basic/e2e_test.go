package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/basicauth"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

const (
	aliceID = "5f8a6e3c-0d6b-4c3e-8f5e-3b1f2a9c7d10"
	bobID   = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	anonID  = "0b9e8d7c-6f5a-4b3c-9d2e-1f0a9b8c7d6e"
)

// plugin builds the real binary (with the test seam compiled in) and
// starts it the way Kong does.
func plugin(t *testing.T) *kongwire.Server {
	t.Helper()
	bin := kongwire.Build(t, "authkit-basic", "authkit_testseam")
	s := kongwire.Start(t, bin)
	s.SetConsumers(
		kongwire.Consumer{ID: aliceID, Username: "alice", CustomID: "cust-alice"},
		kongwire.Consumer{ID: bobID, Username: "bob"},
		kongwire.Consumer{ID: anonID, Username: "anonymous"},
	)
	return s
}

func hashes(t *testing.T) (bcryptHash, argonHash string) {
	t.Helper()
	b, err := passwd.HashBcrypt([]byte("alice-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	a, err := passwd.HashArgon2id([]byte("bob-pw"), passwd.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	return b, a
}

func baseConfig(t *testing.T) map[string]any {
	b, a := hashes(t)
	return map[string]any{
		"credentials": []any{
			map[string]any{"username": "alice", "password_hash": b, "consumer": "alice"},
			map[string]any{"username": "bob", "password_hash": a, "consumer": bobID},
		},
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func get(h ...string) *kongwire.Request {
	r := &kongwire.Request{Method: "GET", Path: "/basic", Headers: http.Header{}, ClientIP: "198.51.100.7"}
	for i := 0; i+1 < len(h); i += 2 {
		r.Headers.Add(h[i], h[i+1])
	}
	return r
}

// refused asserts a refusal's status, body code, log line and serialize value.
func refused(t *testing.T, res *kongwire.Result, status int, code string) {
	t.Helper()
	kongwire.CheckRefusal(t, res, "authkit-basic", status, code)
}

func accepted(t *testing.T, res *kongwire.Result, consumerID, username, credential string) {
	t.Helper()
	if res.Exited || res.Err != nil {
		t.Fatalf("refused: %d %s %v logs %v", res.Status, res.Body, res.Err, res.Logs)
	}
	if !res.Authenticated || res.AuthConsumer == nil || res.AuthConsumer.ID != consumerID {
		t.Fatalf("authenticate: %v %+v", res.Authenticated, res.AuthConsumer)
	}
	if res.AuthCredential == nil || res.AuthCredential.ID != credential || res.AuthCredential.ConsumerID != consumerID {
		t.Fatalf("credential %+v", res.AuthCredential)
	}
	h := res.UpstreamHeaders
	if h.Get("X-Consumer-ID") != consumerID || h.Get("X-Consumer-Username") != username || h.Get("X-Credential-Identifier") != credential {
		t.Fatalf("upstream identity headers: %v", h)
	}
	if _, anon := h["X-Anonymous-Consumer"]; anon {
		t.Fatalf("X-Anonymous-Consumer must be absent: %v", h)
	}
}

func TestSchemaAsKongSeesIt(t *testing.T) {
	bin := kongwire.Build(t, "authkit-basic")
	info := kongwire.Dump(t, bin)
	kongwire.CheckSchema(t, info, kongwire.JSONTags(basicauth.Config{}))
	if p := info.Plugins[0]; p.Name != "authkit-basic" || p.Priority != 1100 || strings.Join(p.Phases, ",") != "access" {
		t.Fatalf("plugin info %+v", p)
	}
}

func TestBasicEndToEnd(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, baseConfig(t))

	t.Run("bcrypt password", func(t *testing.T) {
		res := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
		accepted(t, res, aliceID, "alice", "alice")
		if res.UpstreamHeaders.Get("X-Consumer-Custom-ID") != "cust-alice" || res.UpstreamHeaders.Get("Authorization") == "" {
			t.Fatalf("upstream %v", res.UpstreamHeaders)
		}
	})
	t.Run("argon2id password, consumer by id", func(t *testing.T) {
		accepted(t, inst.Access(t, get("Authorization", basic("bob", "bob-pw"))), bobID, "bob", "bob")
	})
	t.Run("Proxy-Authorization first", func(t *testing.T) {
		accepted(t, inst.Access(t, get("Proxy-Authorization", basic("bob", "bob-pw"), "Authorization", "Bearer x")), bobID, "bob", "bob")
	})
	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		wrong := inst.Access(t, get("Authorization", basic("alice", "nope")))
		unknown := inst.Access(t, get("Authorization", basic("mallory", "alice-pw")))
		refused(t, wrong, 401, "BASIC_INVALID_CREDENTIALS")
		refused(t, unknown, 401, "BASIC_INVALID_CREDENTIALS")
		if string(wrong.Body) != string(unknown.Body) || wrong.Header("WWW-Authenticate") != unknown.Header("WWW-Authenticate") {
			t.Fatal("unknown user and wrong password must get the same answer")
		}
		for _, l := range append(wrong.Logs, unknown.Logs...) {
			if strings.Contains(l.Message, "nope") || strings.Contains(l.Message, "alice-pw") || strings.Contains(l.Message, "mallory") {
				t.Fatalf("a secret or user name leaked into the log: %s", l.Message)
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		res := inst.Access(t, get())
		refused(t, res, 401, "BASIC_MISSING")
		if got := res.Header("WWW-Authenticate"); got != `Basic realm="service", charset="UTF-8"` {
			t.Fatalf("challenge %q", got)
		}
		refused(t, inst.Access(t, get("Authorization", "Bearer abc")), 401, "BASIC_MISSING")
	})
	for name, h := range map[string]string{
		"not base64": "Basic !!!notbase64",
		"no colon":   "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")),
		"empty":      "Basic ",
		"empty user": basic("", "pw"),
		"latin-1":    "Basic " + base64.StdEncoding.EncodeToString([]byte("j\xf6rg:pw")),
	} {
		t.Run("malformed "+name, func(t *testing.T) {
			res := inst.Access(t, get("Authorization", h))
			refused(t, res, 400, "BASIC_MALFORMED")
			if res.Header("WWW-Authenticate") != "" {
				t.Fatal("a 400 carries no challenge")
			}
		})
	}
	t.Run("identity headers cannot be spoofed", func(t *testing.T) {
		res := inst.Access(t, get("Authorization", basic("bob", "bob-pw"),
			"X-Consumer-Username", "admin", "X-Consumer-Custom-ID", "root", "X-Anonymous-Consumer", "true", "X-Credential-Identifier", "forged"))
		accepted(t, res, bobID, "bob", "bob")
		if _, ok := res.UpstreamHeaders["X-Consumer-Custom-Id"]; ok {
			t.Fatalf("spoofed custom id kept: %v", res.UpstreamHeaders)
		}
	})
}

func TestHideCredentialsAndAnonymous(t *testing.T) {
	s := plugin(t)
	cfg := baseConfig(t)
	cfg["hide_credentials"] = true
	cfg["anonymous"] = "anonymous"
	cfg["realm"] = "api"
	inst := s.StartInstance(t, cfg)

	res := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
	accepted(t, res, aliceID, "alice", "alice")
	if _, ok := res.UpstreamHeaders["Authorization"]; ok {
		t.Fatal("hide_credentials: Authorization reached the upstream")
	}

	res = inst.Access(t, get("Authorization", basic("alice", "wrong")))
	if res.Exited || res.AuthConsumer == nil || res.AuthConsumer.ID != anonID {
		t.Fatalf("anonymous fallback: %d %s %+v", res.Status, res.Body, res.AuthConsumer)
	}
	if res.UpstreamHeaders.Get("X-Anonymous-Consumer") != "true" || res.UpstreamHeaders.Get("X-Consumer-Username") != "anonymous" {
		t.Fatalf("anonymous headers %v", res.UpstreamHeaders)
	}
	if ak, _ := res.Serialize["authkit"].(map[string]any); ak["code"] != "BASIC_INVALID_CREDENTIALS" || ak["anonymous"] != "true" {
		t.Fatalf("serialize %v", res.Serialize)
	}

	// Another auth plugin already authenticated the request: left alone.
	req := get()
	req.Credential = &kongwire.Credential{ID: "key-cred-1", ConsumerID: bobID}
	res = inst.Access(t, req)
	if res.Exited || res.Authenticated || res.RoundTrips() != 1 || strings.Join(res.Calls, ",") != "kong.request.get_headers,kong.client.get_credential" {
		t.Fatalf("logical OR: %+v calls %v", res, res.Calls)
	}
}

func TestAnonymousConsumerMissingFailsClosed(t *testing.T) {
	s := plugin(t)
	cfg := baseConfig(t)
	cfg["anonymous"] = "ghost"
	res := s.StartInstance(t, cfg).Access(t, get())
	refused(t, res, 500, "CONSUMER_NOT_FOUND")
}

func TestLockout(t *testing.T) {
	s := plugin(t)
	cfg := baseConfig(t)
	cfg["max_failures"] = 2
	cfg["lockout_seconds"] = 60
	inst := s.StartInstance(t, cfg)
	for i := 0; i < 2; i++ {
		refused(t, inst.Access(t, get("Authorization", basic("alice", "guess"))), 401, "BASIC_INVALID_CREDENTIALS")
	}
	res := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
	refused(t, res, 429, "BASIC_LOCKED_OUT")
	if ra := res.Header("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	other := get("Authorization", basic("alice", "alice-pw"))
	other.ClientIP = "203.0.113.9"
	accepted(t, inst.Access(t, other), aliceID, "alice", "alice")
}

func TestConfigInvalid(t *testing.T) {
	s := plugin(t)
	cfg := baseConfig(t)
	cfg["credentials"] = append(cfg["credentials"].([]any), map[string]any{"username": "carol", "password_hash": "hunter2", "consumer": "alice"})
	res := s.StartInstance(t, cfg).Access(t, get("Authorization", basic("alice", "alice-pw")))
	refused(t, res, 500, "CONFIG_INVALID")
	if !strings.Contains(res.Logs[0].Message, "credentials[2].password_hash") || res.Logs[0].Level != "err" {
		t.Fatalf("log must name the field at err: %+v", res.Logs)
	}
	if strings.Contains(string(res.Body), "hunter2") || strings.Contains(res.Logs[0].Message, "hunter2") {
		t.Fatal("the plaintext password leaked")
	}
}

func TestPanicIsRecovered(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, baseConfig(t))
	res := inst.Access(t, get("X-Authkit-Test-Panic", "1", "Authorization", basic("alice", "alice-pw")))
	refused(t, res, 500, "INTERNAL_ERROR")
	if s.Exited() {
		t.Fatal("the plugin process died")
	}
	accepted(t, inst.Access(t, get("Authorization", basic("alice", "alice-pw"))), aliceID, "alice", "alice")
}

// TestRoundTrips pins the PDK round trips per request (the event itself
// adds one): every round trip costs tens of microseconds in a real Kong.
// The request facts come in one batch; the calls that answer nothing
// (authenticate, set_headers, the log line, the serialize value) leave with
// the end of the event or with the exit, in the same write.
func TestRoundTrips(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, baseConfig(t))
	inst.Access(t, get("Authorization", basic("alice", "alice-pw"))) // warm the consumer cache
	ok := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
	bad := inst.Access(t, get("Authorization", basic("alice", "wrong")))
	t.Logf("round trips: success %d %v, refusal %d %v", ok.RoundTrips(), ok.Calls, bad.RoundTrips(), bad.Calls)
	kongwire.CheckTrips(t, "success", ok, 1, 2, "kong.request.get_headers", "kong.client.authenticate", "kong.service.request.set_headers")
	kongwire.CheckTrips(t, "refusal", bad, 1, 2, "kong.request.get_headers", "kong.log.notice", "kong.log.set_serialize_value", "kong.response.exit")
	// Removing headers (hide_credentials, identity headers the client
	// sent) rides on the same set_headers call: no extra call.
	cfg := baseConfig(t)
	cfg["hide_credentials"] = true
	hide := s.StartInstance(t, cfg)
	hide.Access(t, get("Authorization", basic("alice", "alice-pw")))
	res := hide.Access(t, get("Authorization", basic("alice", "alice-pw"), "X-Consumer-Custom-ID", "spoofed", "X-Anonymous-Consumer", "true"))
	kongwire.CheckTrips(t, "success with hide_credentials and spoofed headers", res, 1, 2, "kong.request.get_headers", "kong.client.authenticate", "kong.service.request.set_headers")
	for _, h := range []string{"Authorization", "X-Anonymous-Consumer"} {
		if _, ok := res.UpstreamHeaders[h]; ok {
			t.Errorf("%s reached the upstream: %v", h, res.UpstreamHeaders)
		}
	}
}

// TestConcurrentMixedRequests drives one instance with many concurrent
// requests (successes, wrong passwords, unknown users, malformed headers):
// the binary is built with -race under `make test`, so a data race in any
// cache fails the plugin process, and every answer must still be right.
func TestConcurrentMixedRequests(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, baseConfig(t))
	type want struct {
		h      string
		status int
	}
	cases := []want{
		{basic("alice", "alice-pw"), 0}, {basic("bob", "bob-pw"), 0},
		{basic("alice", "wrong"), 401}, {basic("mallory", "x"), 401}, {"Basic !!", 400},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(c want) {
			defer wg.Done()
			res := inst.Access(t, get("Authorization", c.h))
			if c.status == 0 && (res.Exited || !res.Authenticated) || c.status != 0 && res.Status != c.status {
				errs <- fmt.Sprintf("%q: status %d exited=%v", c.h, res.Status, res.Exited)
			}
		}(cases[i%len(cases)])
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if s.Exited() {
		t.Fatalf("the plugin process died: %v", s.ProcessOutput())
	}
	for _, l := range s.ProcessOutput() {
		if strings.Contains(l, "DATA RACE") {
			t.Fatalf("data race in the plugin: %v", s.ProcessOutput())
		}
	}
}

// TestInstanceChurn: Kong starts a new instance on every config change and
// closes the old one. The new instance must work at once, with the same
// process-wide state (here: the lockout counters of an identical config).
func TestInstanceChurn(t *testing.T) {
	s := plugin(t)
	cfg := baseConfig(t)
	cfg["max_failures"] = 2
	cfg["lockout_seconds"] = 60
	old := s.StartInstance(t, cfg)
	refused(t, old.Access(t, get("Authorization", basic("alice", "guess"))), 401, "BASIC_INVALID_CREDENTIALS")
	refused(t, old.Access(t, get("Authorization", basic("alice", "guess"))), 401, "BASIC_INVALID_CREDENTIALS")

	renewed := s.StartInstance(t, cfg) // same config, new __seq__: what Kong does after a reload
	s.CloseInstance(t, old)
	refused(t, renewed.Access(t, get("Authorization", basic("alice", "alice-pw"))), 429, "BASIC_LOCKED_OUT")
	accepted(t, renewed.Access(t, get("Authorization", basic("bob", "bob-pw"))), bobID, "bob", "bob")

	changed := baseConfig(t) // a different config compiles on its own
	changed["realm"] = "other"
	res := s.StartInstance(t, changed).Access(t, get())
	refused(t, res, 401, "BASIC_MISSING")
	if got := res.Header("WWW-Authenticate"); !strings.Contains(got, `realm="other"`) {
		t.Fatalf("new config not in effect: %q", got)
	}
}

// slowHashes counts the seam's slow-hash lines for user in the plugin's
// output. Lines reach the harness through a pipe, in write order: a
// verification for sentinel, made after everything else, is the marker
// that every earlier line has been read.
func slowHashes(t *testing.T, s *kongwire.Server, inst *kongwire.Instance, user string) int {
	t.Helper()
	inst.Access(t, get("Authorization", basic("sentinel-user", "x")))
	marker, sentinel := basicauth.SlowHashMarker+" "+secret.Fingerprint(user), basicauth.SlowHashMarker+" "+secret.Fingerprint("sentinel-user")
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, seen := 0, false
		for _, l := range s.ProcessOutput() {
			switch {
			case strings.Contains(l, marker):
				n++
			case strings.Contains(l, sentinel):
				seen = true
			}
		}
		if seen {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel's slow hash never showed in the output: %v", s.ProcessOutput())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLockoutHoldsUnderConcurrency (issue 11, item 2): 40 parallel wrong
// guesses with max_failures 3 verify at most 3 passwords; the others are
// refused with 429 without hashing, and the right password afterwards is
// refused too. A burst of concurrent right requests on a cold cache is not
// locked out by itself.
func TestLockoutHoldsUnderConcurrency(t *testing.T) {
	s := plugin(t)
	slowAlice, err := passwd.HashBcrypt([]byte("alice-pw"), 8) // slow enough that the guesses overlap
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t)
	cfg["credentials"].([]any)[0].(map[string]any)["password_hash"] = slowAlice
	cfg["max_failures"] = 3
	cfg["lockout_seconds"] = 60
	inst := s.StartInstance(t, cfg)

	var wg sync.WaitGroup
	results := make([]*kongwire.Result, 40)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = inst.Access(t, get("Authorization", basic("alice", fmt.Sprintf("guess-%d", i))))
		}(i)
	}
	wg.Wait()
	counts := map[int]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	if counts[401] > 3 || counts[401]+counts[429] != 40 {
		t.Fatalf("40 parallel guesses with max_failures 3: statuses %v", counts)
	}
	if n := slowHashes(t, s, inst, "alice"); n > 3 {
		t.Fatalf("40 parallel guesses with max_failures 3: %d passwords hashed", n)
	}
	res := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
	refused(t, res, 429, "BASIC_LOCKED_OUT")

	// Same config, another client IP: a burst of 20 right requests, cold.
	for i := range 20 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := get("Authorization", basic("alice", "alice-pw"))
			r.ClientIP = "203.0.113.50"
			results[i] = inst.Access(t, r)
		}(i)
	}
	wg.Wait()
	for _, r := range results[:20] {
		accepted(t, r, aliceID, "alice", "alice")
	}
}

// TestMixedHashCostsWarnOnce (issue 11, item 5): a config whose users'
// hashes differ in cost logs one warning at warn, on the first request of
// that config only, and lets requests through as usual.
func TestMixedHashCostsWarnOnce(t *testing.T) {
	s := plugin(t)
	cfg := baseConfig(t) // alice bcrypt cost 4, bob argon2id m=64
	inst := s.StartInstance(t, cfg)
	first := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
	accepted(t, first, aliceID, "alice", "alice")
	var warns []kongwire.LogLine
	for _, l := range first.Logs {
		if l.Level == "warn" {
			warns = append(warns, l)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Message, `"code":"CONFIG_INVALID"`) || !strings.Contains(warns[0].Message, `"outcome":"accepted"`) ||
		!strings.Contains(warns[0].Message, "bcrypt cost 4") || !strings.Contains(warns[0].Message, "argon2id m=64,t=1,p=1") {
		t.Fatalf("want one warning naming both parameter sets, got %+v", first.Logs)
	}
	again := s.StartInstance(t, cfg).Access(t, get("Authorization", basic("bob", "bob-pw")))
	accepted(t, again, bobID, "bob", "bob")
	for _, l := range again.Logs {
		if l.Level == "warn" {
			t.Fatalf("the warning was logged twice for one config: %+v", again.Logs)
		}
	}
}
