package main

import (
	"fmt"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

// Issue 23, defect 1: two routes (two plugin configs) on one Redis and the
// default key_prefix, each with its own credentials, both with a user
// alice. A success on route B must not reset the count route A is
// building; one credential served by both routes shares its window.

// routeConfig is a policy-redis config with alice's password hashed fresh
// (a fresh salt: a different credential even for the same password, unless
// the caller passes the same hash to both routes).
func routeConfig(t *testing.T, port int, prefix, aliceHash string) map[string]any {
	t.Helper()
	return map[string]any{
		"credentials":     []any{map[string]any{"username": "alice", "password_hash": aliceHash, "consumer": "alice"}},
		"max_failures":    3,
		"lockout_seconds": 60,
		"policy":          "redis",
		"fault_tolerant":  false, // a Redis failure shows as a 503, never as local counting
		"redis":           map[string]any{"host": "127.0.0.1", "port": port, "key_prefix": prefix, "timeout_ms": 5000},
	}
}

func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := passwd.HashBcrypt([]byte(pw), 4)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func twoRoutes(t *testing.T, cfgA, cfgB map[string]any) (a, b *kongwire.Instance) {
	t.Helper()
	s := kongwire.Start(t, kongwire.Build(t, "authkit-basic", "authkit_testseam"))
	s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice"})
	return s.StartInstance(t, cfgA), s.StartInstance(t, cfgB)
}

// TestRedisLockoutRoutesCountApart is the reported sequence: from one
// client IP, max_failures-1 wrong guesses on route A, one correct login on
// route B, repeat. Route A must lock on its 4th wrong guess, as with
// policy local.
func TestRedisLockoutRoutesCountApart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	prefix := "authkit:" // the default, on both routes
	a, b := twoRoutes(t, routeConfig(t, srv.Port, prefix, cheapHash(t, "alice-on-a")),
		routeConfig(t, srv.Port, prefix, cheapHash(t, "alice-on-b")))
	guess := 0
	for round := 0; round < 4; round++ {
		for i := 0; i < 2; i++ { // max_failures - 1
			guess++
			res := a.Access(t, get("Authorization", basic("alice", fmt.Sprintf("guess-%d", guess))))
			if guess >= 4 {
				refused(t, res, 429, "BASIC_LOCKED_OUT")
				if guess == 4 {
					return
				}
				continue
			}
			refused(t, res, 401, "BASIC_INVALID_CREDENTIALS")
		}
		accepted(t, b.Access(t, get("Authorization", basic("alice", "alice-on-b"))), aliceID, "alice", "alice")
	}
	t.Fatal("route A never locked")
}

// TestRedisLockoutSharedCredential: routes serving the same credential
// store (the same users and stored hashes) with the same max_failures and
// lockout_seconds share one window per (user, client IP), known user or
// not, so N such routes do not give N × max_failures guesses. Any other
// route counts apart: its own alice, the same alice among other users (the
// store decides, never the name: that would tell known users from
// unknown), or other lockout settings (which must not weaken each other).
func TestRedisLockoutSharedCredential(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	h := cheapHash(t, "alice-pw")
	cfg := func(kv ...any) map[string]any {
		c := routeConfig(t, srv.Port, "authkit:", h)
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	a, b := twoRoutes(t, cfg(), cfg())
	refused(t, a.Access(t, get("Authorization", basic("alice", "guess-1"))), 401, "BASIC_INVALID_CREDENTIALS")
	refused(t, b.Access(t, get("Authorization", basic("alice", "guess-2"))), 401, "BASIC_INVALID_CREDENTIALS")
	refused(t, a.Access(t, get("Authorization", basic("alice", "guess-3"))), 401, "BASIC_INVALID_CREDENTIALS")
	refused(t, b.Access(t, get("Authorization", basic("alice", "alice-pw"))), 429, "BASIC_LOCKED_OUT")
	refused(t, a.Access(t, get("Authorization", basic("alice", "alice-pw"))), 429, "BASIC_LOCKED_OUT")

	// An unknown user: the same store on both routes, one window.
	for i, inst := range []*kongwire.Instance{a, b, a} {
		refused(t, inst.Access(t, get("Authorization", basic("mallory", fmt.Sprintf("guess-%d", i)))), 401, "BASIC_INVALID_CREDENTIALS")
	}
	refused(t, b.Access(t, get("Authorization", basic("mallory", "guess-x"))), 429, "BASIC_LOCKED_OUT")

	bob := map[string]any{"username": "bob", "password_hash": cheapHash(t, "bob-pw"), "consumer": "alice"}
	apart := map[string]map[string]any{
		"its own alice":        routeConfig(t, srv.Port, "authkit:", cheapHash(t, "alice-pw")),
		"alice among others":   cfg("credentials", append(cfg()["credentials"].([]any), bob)),
		"another max_failures": cfg("max_failures", 4),
		"another lockout_secs": cfg("lockout_seconds", 61),
		"another key_prefix":   routeConfig(t, srv.Port, "other:", h),
	}
	for name, c := range apart {
		other, _ := twoRoutes(t, c, cfg())
		res := other.Access(t, get("Authorization", basic("alice", "alice-pw")))
		if res.Status == 429 {
			t.Fatalf("%s: locked by the other routes' failures", name)
		}
		accepted(t, res, aliceID, "alice", "alice")
	}
}
