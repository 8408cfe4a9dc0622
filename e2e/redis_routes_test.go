package e2e

import (
	"fmt"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// TestRedisLockoutTwoRoutes (issue 23, defect 1) in real Kong: two routes
// run authkit-basic on one Redis and the default key_prefix, each with its
// own alice. From one client: max_failures-1 wrong guesses on route A, one
// correct login on route B, repeat; route A locks on its 4th wrong guess.
// A third route with exactly route A's credentials shares A's window.
func TestRedisLockoutTwoRoutes(t *testing.T) {
	realkong.Require(t)
	srv := redistest.Start(t, redistest.Options{})
	redis := obj{"host": "127.0.0.1", "port": srv.Port, "timeout_ms": 2000} // key_prefix: the default
	aHash := bcryptHash(t, "alice-on-a")
	basicOn := func(hash string) obj {
		return plugin("authkit-basic", obj{
			"credentials":  []any{obj{"username": "alice", "password_hash": hash, "consumer": "alice"}},
			"max_failures": 3, "lockout_seconds": 60, "policy": "redis", "redis": redis, "fault_tolerant": false})
	}
	terminate := plugin("request-termination", obj{"status_code": 200, "message": "ok"})
	doc, err := yaml.Marshal(obj{
		"_format_version": "3.0",
		"services": []any{obj{"name": "term", "url": "http://127.0.0.1:9", "routes": []any{
			route("route-a", "/a", terminate, basicOn(aHash)),
			route("route-b", "/b", terminate, basicOn(bcryptHash(t, "alice-on-b"))),
			route("route-a2", "/a2", terminate, basicOn(aHash)),
		}}},
		"consumers": []any{obj{"username": "alice"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := realkong.Start(t, realkong.Options{BinDir: realkong.BuildPlugins(t), Plugins: []string{"authkit-basic"}, Config: doc})

	guess := 0
	for round := 0; guess < 4; round++ {
		for i := 0; i < 2 && guess < 4; i++ {
			guess++
			r := get(t, g, "/a", "Authorization", basicAuth("alice", fmt.Sprintf("guess-%d", guess)))
			want, code := 401, "BASIC_INVALID_CREDENTIALS"
			if guess == 4 {
				want, code = 429, "BASIC_LOCKED_OUT"
			}
			if r.Status != want || r.bodyCode() != code {
				t.Fatalf("route A, wrong guess %d (after %d correct logins on route B): %d %s, want %d %s", guess, round, r.Status, r.Body, want, code)
			}
		}
		if guess < 4 {
			if r := get(t, g, "/b", "Authorization", basicAuth("alice", "alice-on-b")); r.Status != 200 {
				t.Fatalf("route B, correct login: %d %s", r.Status, r.Body)
			}
		}
	}
	// Route A2 serves exactly route A's credentials: the same window.
	if r := get(t, g, "/a2", "Authorization", basicAuth("alice", "alice-on-a")); r.Status != 429 || r.bodyCode() != "BASIC_LOCKED_OUT" {
		t.Fatalf("route A2 (route A's credentials): %d %s, want 429", r.Status, r.Body)
	}
	// Route B's alice is another credential: not locked.
	if r := get(t, g, "/b", "Authorization", basicAuth("alice", "alice-on-b")); r.Status != 200 {
		t.Fatalf("route B after route A locked: %d %s", r.Status, r.Body)
	}
}
