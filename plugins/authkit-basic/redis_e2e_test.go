package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

// Two plugin processes of the same binary are two gateway nodes: with
// policy redis they share one lockout.

func redisConfig(t *testing.T, redis map[string]any, kv ...any) map[string]any {
	t.Helper()
	slowAlice, err := passwd.HashBcrypt([]byte("alice-pw"), 8) // slow enough that the guesses overlap
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t)
	cfg["credentials"].([]any)[0].(map[string]any)["password_hash"] = slowAlice
	cfg["max_failures"] = 3
	cfg["lockout_seconds"] = 60
	cfg["policy"] = "redis"
	redis["key_prefix"] = fmt.Sprintf("e2e%d:", time.Now().UnixNano())
	if _, ok := redis["timeout_ms"]; !ok {
		// The guarantee tests must not fall back to local counters
		// because a loaded machine (make test: every package at once,
		// with -race) made Redis answer late; the fault tests set 200.
		redis["timeout_ms"] = 5000
	}
	cfg["redis"] = redis
	// Strict: any Redis failure shows as a 503, never as local counting.
	cfg["fault_tolerant"] = false
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i].(string)] = kv[i+1]
	}
	return cfg
}

// guessAcross sends n different wrong passwords for alice, in parallel,
// alternating between the nodes, and checks that exactly max_failures (3)
// were hashed in all, the others refused with 429 without hashing, and the
// right password is then refused on every node.
func guessAcross(t *testing.T, nodes []*kongwire.Server, insts []*kongwire.Instance, n int) {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]*kongwire.Result, n)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = insts[i%len(insts)].Access(t, get("Authorization", basic("alice", fmt.Sprintf("guess-%d", i))))
		}(i)
	}
	wg.Wait()
	counts := map[int]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	hashed := 0
	for i, s := range nodes {
		hashed += slowHashes(t, s, insts[i], "alice")
	}
	if hashed != 3 || counts[401] != 3 || counts[429] != n-3 {
		t.Fatalf("%d guesses over %d nodes with max_failures 3: %d passwords hashed, statuses %v", n, len(nodes), hashed, counts)
	}
	for _, inst := range insts {
		res := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
		refused(t, res, 429, "BASIC_LOCKED_OUT")
		if ra := res.Header("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After %q", ra)
		}
	}
}

func twoNodes(t *testing.T, cfg map[string]any, env ...string) ([]*kongwire.Server, []*kongwire.Instance) {
	t.Helper()
	bin := kongwire.Build(t, "authkit-basic", "authkit_testseam")
	var nodes []*kongwire.Server
	var insts []*kongwire.Instance
	for i := 0; i < 2; i++ {
		s := kongwire.Start(t, bin, env...)
		s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice"}, kongwire.Consumer{ID: bobID, Username: "bob"})
		nodes = append(nodes, s)
		insts = append(insts, s.StartInstance(t, cfg))
	}
	return nodes, insts
}

func TestRedisLockoutAcrossNodes(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		srv := redistest.Start(t, redistest.Options{Password: "s3cret"})
		// The password comes from the environment (password_env), as it
		// must in Kong with KONG_NGINX_MAIN_ENV.
		nodes, insts := twoNodes(t, redisConfig(t, map[string]any{"host": "127.0.0.1", "port": srv.Port, "password_env": "AUTHKIT_REDIS_PASSWORD"}),
			"AUTHKIT_REDIS_PASSWORD=s3cret")
		guessAcross(t, nodes, insts, 40)
		// Another client IP is not locked, and a right password on one
		// node clears nothing of the locked pair.
		r := get("Authorization", basic("alice", "alice-pw"))
		r.ClientIP = "203.0.113.9"
		accepted(t, insts[1].Access(t, r), aliceID, "alice", "alice")
		accepted(t, insts[0].Access(t, r), aliceID, "alice", "alice") // each node caches its own verifications
		keys, _ := srv.AuthCmd("s3cret", "KEYS", "*")
		if strings.Contains(keys, "alice") || strings.Contains(keys, "198.51") {
			t.Fatalf("plaintext in Redis keys: %q", keys)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t)
		nodes, insts := twoNodes(t, redisConfig(t, map[string]any{"cluster_nodes": c.Addrs()}))
		guessAcross(t, nodes, insts, 40)
	})
	t.Run("sentinel", func(t *testing.T) {
		s := redistest.StartSentinel(t)
		nodes, insts := twoNodes(t, redisConfig(t, map[string]any{"sentinel_master": s.MasterName, "sentinel_nodes": []any{s.Sentinel.Addr()}}))
		guessAcross(t, nodes, insts, 40)
	})
}

// TestRedisRoundTrips: policy redis adds no PDK round trip; the Redis
// round trips are counted in the benchmark (BenchmarkRedisPolicy).
func TestRedisRoundTrips(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	_, insts := twoNodes(t, redisConfig(t, map[string]any{"host": "127.0.0.1", "port": srv.Port}))
	insts[0].Access(t, get("Authorization", basic("alice", "alice-pw")))
	ok := insts[0].Access(t, get("Authorization", basic("alice", "alice-pw")))
	// The client IP (the lockout's) comes in the same batch as the
	// headers, exactly as with policy local.
	kongwire.CheckTrips(t, "success", ok, 1, 2, "kong.request.get_headers", "kong.client.get_forwarded_ip", "kong.client.authenticate", "kong.service.request.set_headers")
}

// faultMargin is what a request may take beyond timeout_ms through the
// harness on a shared machine.
const faultMargin = 250 * time.Millisecond

// TestRedisFaults: Redis killed, paused (SIGSTOP), a wrong password, TLS
// against a plain port. fault_tolerant true keeps answering from local
// counters with one warn line per outage; false answers 503
// REDIS_UNAVAILABLE. Either way within timeout_ms + a margin, and the
// plugin goes back to Redis when it answers again.
func TestRedisFaults(t *testing.T) {
	type fault struct {
		name  string
		kind  string
		setup func(t *testing.T, srv *redistest.Server, redis map[string]any) (recover func())
	}
	faults := []fault{
		{"killed", "connect", func(t *testing.T, srv *redistest.Server, _ map[string]any) func() {
			srv.Kill()
			return func() { srv.Restart(t) }
		}},
		{"paused", "timeout", func(t *testing.T, srv *redistest.Server, _ map[string]any) func() {
			srv.Pause()
			t.Cleanup(srv.Resume)
			return srv.Resume
		}},
		{"wrong password", "auth", func(t *testing.T, srv *redistest.Server, redis map[string]any) func() {
			redis["password"] = "wrong"
			return nil
		}},
		{"TLS to a plain port", "tls", func(t *testing.T, srv *redistest.Server, redis map[string]any) func() {
			redis["ssl"] = true
			redis["ssl_verify"] = false
			return nil
		}},
	}
	bin := kongwire.Build(t, "authkit-basic", "authkit_testseam")
	for _, tolerant := range []bool{true, false} {
		for _, f := range faults {
			t.Run(fmt.Sprintf("%s fault_tolerant=%v", f.name, tolerant), func(t *testing.T) {
				srv := redistest.Start(t, redistest.Options{Password: "right"})
				redis := map[string]any{"host": "127.0.0.1", "port": srv.Port, "timeout_ms": 200, "password": "right"}
				s := kongwire.Start(t, bin)
				s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice"})
				var recover func()
				if f.kind == "auth" || f.kind == "tls" {
					recover = f.setup(t, srv, redis)
				}
				cfg := redisConfig(t, redis, "fault_tolerant", tolerant)
				// A cheap hash, and the same requests timed on a local
				// policy first: the bound is on what Redis adds.
				cheap, err := passwd.HashBcrypt([]byte("alice-pw"), 4)
				if err != nil {
					t.Fatal(err)
				}
				cfg["credentials"] = []any{map[string]any{"username": "alice", "password_hash": cheap, "consumer": "alice"}}
				localCfg := map[string]any{}
				for k, v := range cfg {
					localCfg[k] = v
				}
				localCfg["policy"] = "local"
				var base time.Duration // the slowest of the same requests, policy local
				baseInst := s.StartInstance(t, localCfg)
				for _, pw := range []string{"alice-pw", "wrong-0", "alice-pw"} {
					start := time.Now()
					baseInst.Access(t, get("Authorization", basic("alice", pw)))
					base = max(base, time.Since(start))
				}
				inst := s.StartInstance(t, cfg)
				if f.kind != "auth" && f.kind != "tls" {
					accepted(t, inst.Access(t, get("Authorization", basic("alice", "alice-pw"))), aliceID, "alice", "alice")
					recover = f.setup(t, srv, redis)
				}
				var warns int
				for i, pw := range []string{"alice-pw", "wrong-1", "alice-pw"} {
					start := time.Now()
					res := inst.Access(t, get("Authorization", basic("alice", pw)))
					if took := time.Since(start); took > 200*time.Millisecond+faultMargin+base {
						t.Errorf("request %d took %v, beyond timeout_ms + %v + the slowest of the same requests without Redis (%v)", i, took, faultMargin, base)
					}
					for _, l := range res.AuthkitLines() {
						if strings.Contains(l, `"code":"REDIS_UNAVAILABLE"`) && strings.Contains(l, `"outcome":"accepted"`) {
							warns++
							if !strings.Contains(l, `"redis_error":"`+f.kind+`"`) {
								t.Errorf("the warning names the wrong failure (want %s): %s", f.kind, l)
							}
						}
					}
					switch {
					case !tolerant:
						line := refused503(t, res)
						if !strings.Contains(line, `"redis_error":"`+f.kind+`"`) && !strings.Contains(line, "retry_in_ms") {
							t.Errorf("the refusal names the wrong failure (want %s): %s", f.kind, line)
						}
					case pw == "alice-pw":
						accepted(t, res, aliceID, "alice", "alice")
					default:
						refused(t, res, 401, "BASIC_INVALID_CREDENTIALS")
					}
				}
				if tolerant && warns != 1 {
					t.Fatalf("want exactly one warn line for the outage, got %d", warns)
				}
				if recover == nil {
					return
				}
				recover()
				time.Sleep(1100 * time.Millisecond) // RetryInterval
				res := inst.Access(t, get("Authorization", basic("alice", "wrong-2")))
				refused(t, res, 401, "BASIC_INVALID_CREDENTIALS")
				for _, l := range res.AuthkitLines() {
					if strings.Contains(l, "REDIS_UNAVAILABLE") {
						t.Fatalf("Redis is back, yet: %s", l)
					}
				}
				if n, _ := srv.AuthCmd("right", "DBSIZE"); n == "0" {
					t.Fatal("after recovery the failure was not counted in Redis")
				}
			})
		}
	}
}

func refused503(t *testing.T, res *kongwire.Result) string {
	t.Helper()
	return refusedLine(t, res, 503, "REDIS_UNAVAILABLE")
}

func refusedLine(t *testing.T, res *kongwire.Result, status int, code string) string {
	t.Helper()
	return kongwire.CheckRefusal(t, res, "authkit-basic", status, code)
}
