package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// benchAccess drives the real binary over its Unix socket exactly as Kong
// does and reports PDK round trips per request (the event adds one more).
// ns/op includes the harness's side of the socket, so compare runs, not
// absolute figures, with a real Kong.
func benchAccess(b *testing.B, authz string) {
	bin := kongwire.Build(b, "authkit-basic")
	s := kongwire.Start(b, bin)
	s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice"})
	cfg := map[string]any{"credentials": []any{map[string]any{
		"username": "alice", "consumer": "alice",
		"password_hash": "$2a$10$e.yDTILKEkDH/FLXLK2zZuyj8AeiQZn1RF8oImGSgzQlfGlK.ySw."}}}
	inst := s.StartInstance(b, cfg)
	req := &kongwire.Request{Method: "GET", Path: "/", Headers: http.Header{"Authorization": {authz}}}
	inst.Access(b, req) // warm the consumer and password caches
	b.ReportAllocs()
	b.ResetTimer()
	trips := 0
	for i := 0; i < b.N; i++ {
		trips += inst.Access(b, req).RoundTrips()
	}
	b.ReportMetric(float64(trips)/float64(b.N), "pdk-calls/op")
	b.ReportMetric(float64(trips)/float64(b.N)+1, "round-trips/op")
}

func BenchmarkAccessSuccess(b *testing.B) { benchAccess(b, basic("alice", "alice-demo-password")) }
func BenchmarkAccessRefusal(b *testing.B) { benchAccess(b, "Basic !!") }

// BenchmarkLockoutPolicy: the warm success path (cached password) with the
// lockout on, policy local vs redis, through the real binary. With redis,
// each request asks Redis once whether the pair is locked (and clears its
// failures): redis-calls/op counts the scripts Redis ran.
func BenchmarkLockoutPolicy(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	for _, policy := range []string{"local", "redis"} {
		b.Run(policy, func(b *testing.B) {
			bin := kongwire.Build(b, "authkit-basic")
			s := kongwire.Start(b, bin)
			s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice"})
			cfg := map[string]any{"credentials": []any{map[string]any{
				"username": "alice", "consumer": "alice",
				"password_hash": "$2a$10$e.yDTILKEkDH/FLXLK2zZuyj8AeiQZn1RF8oImGSgzQlfGlK.ySw."}},
				"max_failures": 5, "lockout_seconds": 60, "policy": policy,
				"redis": map[string]any{"host": "127.0.0.1", "port": srv.Port}}
			inst := s.StartInstance(b, cfg)
			req := &kongwire.Request{Method: "GET", Path: "/", ClientIP: "198.51.100.7", Headers: http.Header{"Authorization": {basic("alice", "alice-demo-password")}}}
			inst.Access(b, req)
			before := scriptCalls(srv)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := inst.Access(b, req); !res.Authenticated {
					b.Fatalf("refused: %d %s", res.Status, res.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(scriptCalls(srv)-before)/float64(b.N), "redis-calls/op")
		})
	}
}

// scriptCalls is how many scripts Redis has run (EVALSHA and EVAL).
func scriptCalls(srv *redistest.Server) int {
	info, _ := srv.Cmd("INFO", "commandstats")
	n := 0
	for _, l := range strings.Split(info, "\n") {
		for _, c := range []string{"cmdstat_evalsha:calls=", "cmdstat_eval:calls="} {
			if strings.HasPrefix(l, c) {
				v, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(l, c), ",", 2)[0])
				n += v
			}
		}
	}
	return n
}
