package redisstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

func ptr[T any](v T) *T { return &v }

func TestCompile(t *testing.T) {
	cases := []struct {
		name    string
		policy  string
		cfg     Config
		wantErr string
	}{
		{"local ignores the record", "", Config{Host: "x", ClusterNodes: []string{"bad"}}, ""},
		{"unknown policy", "cluster", Config{}, "policy: \"cluster\" is not local or redis"},
		{"host", "redis", Config{Host: "redis.internal"}, ""},
		{"nothing", "redis", Config{}, "exactly one of host"},
		{"two kinds", "redis", Config{Host: "a", ClusterNodes: []string{"b:1"}}, "exactly one of host"},
		{"port range", "redis", Config{Host: "a", Port: ptr(70000)}, "redis.port: must be between 1 and 65535"},
		{"host with port", "redis", Config{Host: "a:6379"}, "redis.host"},
		{"cluster node", "redis", Config{ClusterNodes: []string{"a:1", "b"}}, "redis.cluster_nodes[1]"},
		{"cluster database", "redis", Config{ClusterNodes: []string{"a:1"}, Database: ptr(2)}, "only database 0"},
		{"sentinel without master", "redis", Config{SentinelNodes: []string{"a:26379"}}, "redis.sentinel_master: required"},
		{"sentinel without nodes", "redis", Config{SentinelMaster: "m"}, "redis.sentinel_nodes: at least one"},
		{"sentinel", "redis", Config{SentinelMaster: "m", SentinelNodes: []string{"a:26379", "[::1]:26379"}}, ""},
		{"timeout", "redis", Config{Host: "a", TimeoutMS: ptr(0)}, "redis.timeout_ms: must be between 1"},
		{"both passwords", "redis", Config{Host: "a", Password: "x", PasswordEnv: "X"}, "set one, not both"},
		{"env name", "redis", Config{Host: "a", PasswordEnv: "A-B"}, "not an environment variable name"},
		{"server_name without ssl", "redis", Config{Host: "a", ServerName: "a"}, "only with redis.ssl"},
		{"prefix braces", "redis", Config{Host: "a", KeyPrefix: ptr("a{b}")}, "redis.key_prefix"},
		{"negative database", "redis", Config{Host: "a", Database: ptr(-1)}, "redis.database: must be ≥ 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Compile(c.policy, c.cfg, nil)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !s.FaultTolerant {
					t.Fatal("fault_tolerant defaults to true")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("want %q, got %v", c.wantErr, err)
			}
		})
	}
	s, err := Compile("redis", Config{Host: "a"}, ptr(false))
	if err != nil || s.FaultTolerant || s.Timeout != 200*time.Millisecond || s.Prefix != "authkit:" || s.Redis.Addrs[0] != "a:6379" || !s.Redis.SSLVerify {
		t.Fatalf("defaults: %+v %+v %v", s, s.Redis, err)
	}
}

type warnings struct {
	mu sync.Mutex
	w  []*errcode.Error
}

func (w *warnings) Warn(e *errcode.Error) { w.mu.Lock(); w.w = append(w.w, e); w.mu.Unlock() }
func (w *warnings) n() int                { w.mu.Lock(); defer w.mu.Unlock(); return len(w.w) }

func store(t testing.TB, c Config, tolerant bool) *Store {
	t.Helper()
	set, err := Compile("redis", c, &tolerant)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(set)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// single is a store of srv with a generous timeout: the tests of what is
// stored must not fail because a loaded machine (make test runs every
// package at once, with -race) made Redis answer late. The fault tests
// use singleTimeout with the default 200 ms.
func single(t testing.TB, srv *redistest.Server, tolerant bool) *Store {
	return singleTimeout(t, srv, tolerant, 5000)
}

func singleTimeout(t testing.TB, srv *redistest.Server, tolerant bool, ms int) *Store {
	return store(t, Config{Host: "127.0.0.1", Port: ptr(srv.Port), TimeoutMS: ptr(ms), KeyPrefix: ptr(fmt.Sprintf("t%d:", time.Now().UnixNano()))}, tolerant)
}

// lockoutGuarantee: many concurrent wrong guesses through several stores
// (nodes) verify exactly max passwords.
func lockoutGuarantee(t *testing.T, nodes ...*Store) {
	const max, guesses = 3, 60
	pair := sha256.Sum256([]byte("alice\x00198.51.100.7"))
	var verified, locked, busy atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < guesses; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := nodes[i%len(nodes)]
			slot := NewSlot()
			st, local, err := s.LockReserve(context.Background(), nil, pair[:], max, time.Minute, slot)
			if err != nil || local {
				t.Errorf("reserve: %v local=%v", err, local)
				return
			}
			switch {
			case st.Locked:
				locked.Add(1)
				return
			case st.Busy:
				busy.Add(1)
				return
			}
			verified.Add(1)
			time.Sleep(20 * time.Millisecond) // the slow hash
			if _, _, err := s.LockRelease(context.Background(), nil, pair[:], max, time.Minute, slot, false); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if verified.Load() != max || verified.Load()+locked.Load()+busy.Load() != guesses {
		t.Fatalf("verified %d, locked %d, busy %d of %d guesses (max %d)", verified.Load(), locked.Load(), busy.Load(), guesses, max)
	}
	st, _, err := nodes[0].LockCheck(context.Background(), nil, pair[:], max)
	if err != nil || !st.Locked || st.RetryAfter < 50*time.Second {
		t.Fatalf("after max failures the right password is refused for the window: %+v %v", st, err)
	}
}

func TestLockoutSingle(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := single(t, srv, false)
	lockoutGuarantee(t, s, s)

	// A right password clears the failures; a leaked slot stops counting.
	pair := sha256.Sum256([]byte("bob"))
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		slot := NewSlot()
		if st, _, _ := s.LockReserve(ctx, nil, pair[:], 3, time.Minute, slot); st.Locked || st.Busy {
			t.Fatal(st)
		}
		if _, _, err := s.LockRelease(ctx, nil, pair[:], 3, time.Minute, slot, false); err != nil {
			t.Fatal(err)
		}
	}
	if st, _, _ := s.LockCheck(ctx, nil, pair[:], 3); st.Locked {
		t.Fatal("locked after 2 of 3")
	}
	if n, _ := srv.Cmd("EXISTS", s.Key("lock", pair[:])); n != "0" {
		t.Fatalf("a right password must clear the pair: EXISTS %s", n)
	}
	// The window ends: a pair locked with a 1 s window is free after it.
	short := sha256.Sum256([]byte("carol"))
	slot := NewSlot()
	s.LockReserve(ctx, nil, short[:], 1, time.Second, slot)
	s.LockRelease(ctx, nil, short[:], 1, time.Second, slot, false)
	if st, _, _ := s.LockCheck(ctx, nil, short[:], 1); !st.Locked || st.RetryAfter > time.Second {
		t.Fatalf("locked for the window: %+v", st)
	}
	time.Sleep(1100 * time.Millisecond)
	if st, _, _ := s.LockReserve(ctx, nil, short[:], 1, time.Second, NewSlot()); st.Locked || st.Busy {
		t.Fatalf("the lock outlived its window: %+v", st)
	}
	// Nothing in Redis but hashes: the key is the prefix and hex.
	keys, _ := srv.Cmd("KEYS", "*")
	for _, k := range strings.Split(keys, "\n") {
		if strings.Contains(k, "alice") || strings.Contains(k, "bob") || strings.Contains(k, "198.51") {
			t.Fatalf("plaintext in a key: %q", k)
		}
	}
}

func TestLockoutCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	a := store(t, Config{ClusterNodes: c.Addrs()[:1], KeyPrefix: ptr("c1:"), TimeoutMS: ptr(5000)}, false)
	b := store(t, Config{ClusterNodes: c.Addrs()[1:], KeyPrefix: ptr("c1:"), TimeoutMS: ptr(5000)}, false)
	lockoutGuarantee(t, a, b)
	// Keys land on every master: 64 pairs spread over the slots.
	for i := 0; i < 64; i++ {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		if _, _, err := a.LockReserve(context.Background(), nil, h[:], 3, time.Minute, NewSlot()); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.Nodes {
		if k, _ := n.Cmd("DBSIZE"); k == "0" {
			t.Fatalf("node %s holds no key: the cluster is not used as one", n.Addr())
		}
	}
}

func TestLockoutSentinel(t *testing.T) {
	s := redistest.StartSentinel(t)
	st := store(t, Config{SentinelMaster: s.MasterName, SentinelNodes: []string{s.Sentinel.Addr()}, KeyPrefix: ptr("s1:"), TimeoutMS: ptr(5000)}, false)
	lockoutGuarantee(t, st)
	// The writes went to the master and replicated.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := s.Replica.Cmd("DBSIZE"); n != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing replicated: the sentinel client did not write to the master")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPutNewerAndClaim(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := single(t, srv, false)
	ctx := context.Background()
	h := []byte("k")
	t0 := time.Now()
	if _, err := s.PutNewer(ctx, nil, "v", h, Version(t0.Add(time.Second), 0), []byte("newer"), time.Minute); err != nil {
		t.Fatal(err)
	}
	s.PutNewer(ctx, nil, "v", h, Version(t0, 0), []byte("older"), time.Minute)
	if v, found, _, _ := s.Get(ctx, nil, "v", h); !found || string(v) != "newer" {
		t.Fatalf("an older value replaced a newer one: %q", v)
	}
	s.PutNewer(ctx, nil, "v", h, Version(t0.Add(time.Second), 1), []byte("tie"), time.Minute)
	if v, _, _, _ := s.Get(ctx, nil, "v", h); string(v) != "tie" {
		t.Fatalf("the tie-breaker: %q", v)
	}
	if _, found, _, _ := s.Get(ctx, nil, "v", []byte("absent")); found {
		t.Fatal("absent found")
	}
	// A claim is first once per key within its ttl, across every node
	// (Store) over the same Redis and prefix.
	other := store(t, Config{Host: "127.0.0.1", Port: ptr(srv.Port), KeyPrefix: ptr(s.prefix)}, false)
	k := sha256.Sum256([]byte("jti-1"))
	if first, local, err := s.Claim(ctx, nil, "jti", k[:], time.Minute); !first || local || err != nil {
		t.Fatal(first, local, err)
	}
	if first, _, _ := other.Claim(ctx, nil, "jti", k[:], time.Minute); first {
		t.Fatal("a replay on another node was not caught")
	}
}

// BenchmarkLockCheck is the one Redis round trip of authkit-basic's warm
// path with policy redis (the lockout's check script on loopback).
func BenchmarkLockCheck(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	s := single(b, srv, false)
	pair := sha256.Sum256([]byte("bench"))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.LockCheck(ctx, nil, pair[:], 5); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRedisCallsAreMetered: every Redis operation is one observation of
// authkit_provider_request_duration_seconds{endpoint="redis"}, labelled
// with REDIS_UNAVAILABLE when it failed (issue 16's provider calls).
func TestRedisCallsAreMetered(t *testing.T) {
	metrics.Enable("authkit-test", "test")
	srv := redistest.Start(t, redistest.Options{})
	s := singleTimeout(t, srv, true, 200)
	count := func(code string) uint64 {
		t.Helper()
		mfs, err := metrics.Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "authkit_provider_request_duration_seconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["endpoint"] == "redis" && labels["code"] == code {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
		return 0
	}
	ok0, bad0 := count(""), count("REDIS_UNAVAILABLE")
	k := sha256.Sum256([]byte("metered"))
	for i := 0; i < 3; i++ {
		if _, local, err := s.Claim(context.Background(), nil, "m", k[:], time.Minute); local || err != nil {
			t.Fatal(local, err)
		}
	}
	if got := count("") - ok0; got != 3 {
		t.Fatalf("3 Redis calls, %d observed", got)
	}
	srv.Pause()
	defer srv.Resume()
	s.Claim(context.Background(), nil, "m", k[:], time.Minute) // times out: one failed call
	s.Claim(context.Background(), nil, "m", k[:], time.Minute) // within the retry interval: no call
	if got := count("REDIS_UNAVAILABLE") - bad0; got != 1 {
		t.Fatalf("one failed Redis call, %d observed", got)
	}
}
