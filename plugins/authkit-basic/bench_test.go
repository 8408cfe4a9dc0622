package main

import (
	"net/http"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
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
