package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// Two plugin processes of the same binary are two gateway nodes; with
// policy redis they share introspection answers.

// redisIntroCfg is introCfg with policy redis. Unless the test says
// otherwise it is strict with a generous timeout: a loaded machine (make
// test, -race) must not turn into local caching and an extra call.
func redisIntroCfg(p *fakeProvider, redis map[string]any, kv ...any) map[string]any {
	redis["key_prefix"] = fmt.Sprintf("e2e%d:", time.Now().UnixNano())
	if _, ok := redis["timeout_ms"]; !ok {
		redis["timeout_ms"] = 5000
	}
	return introCfg(p, append([]any{"policy", "redis", "redis", redis, "fault_tolerant", false}, kv...)...)
}

// revocable answers active for every token until it is revoked.
type revocable struct {
	p       *fakeProvider
	revoked sync.Map
}

func (r *revocable) answer(w http.ResponseWriter, token string) {
	if _, gone := r.revoked.Load(token); gone {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"active":false}`)
		return
	}
	activeAnswer(r.p)(w, token)
}

func twoOAuthNodes(t *testing.T, cfg map[string]any) []*kongwire.Instance {
	t.Helper()
	var insts []*kongwire.Instance
	for i := 0; i < 2; i++ {
		insts = append(insts, startPlugin(t).StartInstance(t, cfg))
	}
	return insts
}

// oneIntrospectionPerToken sends each of n tokens to one node, then to the
// other: n introspection calls in all, not 2n.
func oneIntrospectionPerToken(t *testing.T, p *fakeProvider, insts []*kongwire.Instance, n, workers int) {
	t.Helper()
	before := p.introCalls.Load()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				tok := fmt.Sprintf("tok-%d-%d", time.Now().UnixNano(), i)
				for j := 0; j < 2; j++ {
					res := insts[(i+j)%2].Access(t, bearerReq(tok))
					if res.Exited || !res.Authenticated {
						if failed.Add(1) < 5 {
							t.Errorf("token %d on node %d: %d %s", i, (i+j)%2, res.Status, res.Body)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if calls := p.introCalls.Load() - before; calls != int64(n) {
		t.Fatalf("%d distinct tokens, each sent to both nodes: %d introspection calls, want %d", n, calls, n)
	}
}

func TestRedisIntrospectionAcrossNodes(t *testing.T) {
	setups := []struct {
		name  string
		redis func(t *testing.T) map[string]any
	}{
		{"single", func(t *testing.T) map[string]any {
			srv := redistest.Start(t, redistest.Options{})
			return map[string]any{"host": "127.0.0.1", "port": srv.Port}
		}},
		{"cluster", func(t *testing.T) map[string]any {
			return map[string]any{"cluster_nodes": redistest.StartCluster(t).Addrs()}
		}},
		{"sentinel", func(t *testing.T) map[string]any {
			s := redistest.StartSentinel(t)
			return map[string]any{"sentinel_master": s.MasterName, "sentinel_nodes": []any{s.Sentinel.Addr()}}
		}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			p := newProvider(t)
			rv := &revocable{p: p}
			p.set(func(p *fakeProvider) { p.introspect = rv.answer })
			insts := twoOAuthNodes(t, redisIntroCfg(p, s.redis(t), "introspection_cache_ttl_seconds", 2, "introspection_negative_ttl_seconds", 30))
			oneIntrospectionPerToken(t, p, insts, 50, 4)

			// A revocation is seen by both nodes once the TTL (2 s) has
			// passed, with one more introspection in all.
			tok := fmt.Sprintf("tok-revoked-%d", time.Now().UnixNano())
			accepted(t, insts[0].Access(t, bearerReq(tok)))
			accepted(t, insts[1].Access(t, bearerReq(tok)))
			rv.revoked.Store(tok, true)
			accepted(t, insts[1].Access(t, bearerReq(tok))) // still within the TTL
			before := p.introCalls.Load()
			time.Sleep(2100 * time.Millisecond)
			refused(t, insts[0].Access(t, bearerReq(tok)), tok, 401, "OAUTH_TOKEN_INACTIVE")
			refused(t, insts[1].Access(t, bearerReq(tok)), tok, 401, "OAUTH_TOKEN_INACTIVE")
			if calls := p.introCalls.Load() - before; calls != 1 {
				t.Fatalf("the revocation took %d introspections to reach both nodes, want 1", calls)
			}
		})
	}
}

// TestRedisIntrospectionTenThousandTokens: 10,000 distinct tokens, each
// sent to both nodes, cost 10,000 introspection calls, not 20,000.
func TestRedisIntrospectionTenThousandTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	srv := redistest.Start(t, redistest.Options{})
	p := newProvider(t)
	p.set(func(p *fakeProvider) { p.introspect = activeAnswer(p) })
	insts := twoOAuthNodes(t, redisIntroCfg(p, map[string]any{"host": "127.0.0.1", "port": srv.Port}))
	start := time.Now()
	oneIntrospectionPerToken(t, p, insts, 10_000, 8)
	t.Logf("10,000 tokens × 2 nodes in %v", time.Since(start))
	keys, _ := srv.Cmd("DBSIZE")
	if keys != "10000" {
		t.Fatalf("Redis holds %s answers, want 10000", keys)
	}
	some, _ := srv.Cmd("RANDOMKEY")
	val, _ := srv.Cmd("GET", some)
	if strings.Contains(some+val, "tok-") {
		t.Fatalf("a token reached Redis: %q = %q", some, val)
	}
}

// TestRedisIntrospectionFaults: the shared tier's failures, for
// fault_tolerant true and false, within timeout_ms + a margin.
func TestRedisIntrospectionFaults(t *testing.T) {
	const margin = 250 * time.Millisecond
	faults := []struct {
		name, kind string
		opts       redistest.Options
		redis      map[string]any
		break_     func(srv *redistest.Server) (recover func(t *testing.T))
	}{
		{"killed", "connect", redistest.Options{}, nil, func(srv *redistest.Server) func(t *testing.T) {
			srv.Kill()
			return func(t *testing.T) { srv.Restart(t) }
		}},
		{"paused", "timeout", redistest.Options{}, nil, func(srv *redistest.Server) func(t *testing.T) {
			srv.Pause()
			return func(*testing.T) { srv.Resume() }
		}},
		{"wrong password", "auth", redistest.Options{Password: "right"}, map[string]any{"password": "wrong"}, nil},
		{"TLS to a plain port", "tls", redistest.Options{}, map[string]any{"ssl": true, "ssl_verify": false}, nil},
	}
	for _, tolerant := range []bool{true, false} {
		for _, f := range faults {
			t.Run(fmt.Sprintf("%s fault_tolerant=%v", f.name, tolerant), func(t *testing.T) {
				srv := redistest.Start(t, f.opts)
				t.Cleanup(srv.Resume)
				redis := map[string]any{"host": "127.0.0.1", "port": srv.Port, "timeout_ms": 200}
				for k, v := range f.redis {
					redis[k] = v
				}
				p := newProvider(t)
				p.set(func(p *fakeProvider) { p.introspect = activeAnswer(p) })
				inst := startPlugin(t).StartInstance(t, redisIntroCfg(p, redis, "fault_tolerant", tolerant))
				var recover func(t *testing.T)
				if f.break_ != nil {
					accepted(t, inst.Access(t, bearerReq("tok-before")))
					recover = f.break_(srv)
				}
				warns := 0
				for i := 0; i < 3; i++ {
					tok := fmt.Sprintf("tok-%d", i%2)
					start := time.Now()
					res := inst.Access(t, bearerReq(tok))
					if took := time.Since(start); took > 200*time.Millisecond+margin {
						t.Errorf("request %d took %v", i, took)
					}
					for _, l := range res.AuthkitLines() {
						if strings.Contains(l, `"code":"REDIS_UNAVAILABLE"`) && strings.Contains(l, `"outcome":"accepted"`) {
							warns++
							if !strings.Contains(l, `"redis_error":"`+f.kind+`"`) {
								t.Errorf("warning names the wrong failure (%s): %s", f.kind, l)
							}
						}
					}
					if tolerant {
						accepted(t, res)
					} else {
						refused(t, res, tok, 503, "REDIS_UNAVAILABLE")
					}
				}
				if tolerant && warns != 1 {
					t.Fatalf("want one warn line per outage, got %d", warns)
				}
				if recover == nil {
					return
				}
				recover(t)
				time.Sleep(1100 * time.Millisecond)
				accepted(t, inst.Access(t, bearerReq("tok-after")))
				if n, _ := srv.Cmd("DBSIZE"); n == "0" {
					t.Fatal("after recovery the answer did not reach Redis")
				}
			})
		}
	}
}

// TestRedisDPoPReplayAcrossNodes: with policy redis a DPoP proof spent on
// one node is a replay on the other (RFC 9449 §11.1 across a cluster);
// with policy local the second node, knowing nothing, accepts it — the
// hole issue 14 closes. Then the store's faults: strict refuses with 503
// REDIS_UNAVAILABLE, fault-tolerant falls back to the process's own store
// (one warn line), which still catches a replay on the same node, and
// remembers it when Redis comes back.
func TestRedisDPoPReplayAcrossNodes(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	s := dpopSigner(t, newEC(t, "client"))
	srv := redistest.Start(t, redistest.Options{})
	t.Cleanup(srv.Resume)
	redis := func(kv ...any) map[string]any {
		r := map[string]any{"host": "127.0.0.1", "port": srv.Port, "key_prefix": fmt.Sprintf("e2e%d:", time.Now().UnixNano()), "timeout_ms": 5000}
		for i := 0; i+1 < len(kv); i += 2 {
			r[kv[i].(string)] = kv[i+1]
		}
		return r
	}
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))

	t.Run("policy local: each node alone", func(t *testing.T) {
		insts := twoOAuthNodes(t, baseCfg(p, "proof_of_possession_dpop", "optional"))
		proof := proofFor(t, s, tok)
		accepted(t, insts[0].Access(t, dpopReq(tok, proof)))
		accepted(t, insts[1].Access(t, dpopReq(tok, proof))) // the replay another node cannot see
	})
	t.Run("policy redis: one replay set", func(t *testing.T) {
		insts := twoOAuthNodes(t, baseCfg(p, "proof_of_possession_dpop", "optional", "policy", "redis", "redis", redis(), "fault_tolerant", false))
		for i := 0; i < 20; i++ {
			proof := proofFor(t, s, tok)
			accepted(t, insts[i%2].Access(t, dpopReq(tok, proof)))
			dpopRefused(t, insts[(i+1)%2].Access(t, dpopReq(tok, proof)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
			dpopRefused(t, insts[i%2].Access(t, dpopReq(tok, proof)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
		}
		if keys, _ := srv.Cmd("DBSIZE"); keys == "0" {
			t.Fatal("no spent proof reached Redis")
		}
	})
	t.Run("redis down, strict", func(t *testing.T) {
		inst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional", "policy", "redis", "redis", redis("timeout_ms", 200), "fault_tolerant", false))
		srv.Pause()
		defer srv.Resume()
		refused(t, inst.Access(t, dpopReq(tok, proofFor(t, s, tok))), tok, 503, "REDIS_UNAVAILABLE")
	})
	t.Run("redis down, fault tolerant", func(t *testing.T) {
		inst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional", "policy", "redis", "redis", redis("timeout_ms", 200), "fault_tolerant", true))
		srv.Pause()
		proof := proofFor(t, s, tok)
		res := inst.Access(t, dpopReq(tok, proof))
		accepted(t, res)
		warned := false
		for _, l := range res.AuthkitLines() {
			warned = warned || strings.Contains(l, `"code":"REDIS_UNAVAILABLE"`) && strings.Contains(l, `"outcome":"accepted"`)
		}
		if !warned {
			t.Errorf("no REDIS_UNAVAILABLE warning: %v", res.AuthkitLines())
		}
		dpopRefused(t, inst.Access(t, dpopReq(tok, proof)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
		srv.Resume()
		time.Sleep(1100 * time.Millisecond) // the store retries Redis at most once a second
		// Redis never saw the proof; the process's own store did.
		dpopRefused(t, inst.Access(t, dpopReq(tok, proof)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
		accepted(t, inst.Access(t, dpopReq(tok, proofFor(t, s, tok))))
	})
}
