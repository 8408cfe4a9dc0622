package redisstore

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// margin is what a Redis operation may take beyond timeout_ms on a shared
// machine (scheduling, the retry on a fresh connection).
const margin = 150 * time.Millisecond

// probeOnce runs one operation and checks the documented behaviour: a
// strict store answers REDIS_UNAVAILABLE with the given kind, a tolerant
// one goes local; both within timeout_ms + margin.
func probeOnce(t *testing.T, s *Store, rep *warnings, kind string) {
	t.Helper()
	h := sha256.Sum256([]byte("fault"))
	start := time.Now()
	_, local, err := s.LockCheck(context.Background(), rep, h[:], 3)
	took := time.Since(start)
	if took > s.Timeout()+margin {
		t.Errorf("took %v, beyond timeout_ms %v + %v", took, s.Timeout(), margin)
	}
	if s.FaultTolerant() {
		if err != nil || !local {
			t.Fatalf("tolerant: want local, got local=%v err=%v", local, err)
		}
		return
	}
	e := errcode.From(err)
	if e == nil || e.Code != errcode.RedisUnavailable || e.Field("redis_error") != kind {
		t.Fatalf("strict: want REDIS_UNAVAILABLE %s, got %v (%v)", kind, err, e.Field("redis_error"))
	}
}

func TestFaults(t *testing.T) {
	for _, tolerant := range []bool{true, false} {
		name := "strict"
		if tolerant {
			name = "tolerant"
		}
		t.Run(name, func(t *testing.T) {
			t.Run("killed mid-run, then back", func(t *testing.T) {
				srv := redistest.Start(t, redistest.Options{})
				s := singleTimeout(t, srv, tolerant, 200)
				rep := &warnings{}
				h := sha256.Sum256([]byte("x"))
				if _, local, err := s.LockCheck(context.Background(), rep, h[:], 3); err != nil || local {
					t.Fatal(local, err)
				}
				srv.Kill()
				probeOnce(t, s, rep, "connect")
				probeOnce(t, s, rep, "connect") // inside RetryInterval: at once, same answer
				if tolerant && rep.n() != 1 {
					t.Fatalf("want one warning per outage, got %d", rep.n())
				}
				srv.Restart(t)
				time.Sleep(RetryInterval + 50*time.Millisecond)
				if _, local, err := s.LockCheck(context.Background(), rep, h[:], 3); err != nil || local {
					t.Fatalf("no recovery: local=%v %v", local, err)
				}
				srv.Kill() // a second outage warns again
				probeOnce(t, s, rep, "connect")
				if tolerant && rep.n() != 2 {
					t.Fatalf("want one warning per outage (2), got %d", rep.n())
				}
			})
			t.Run("paused: times out", func(t *testing.T) {
				srv := redistest.Start(t, redistest.Options{})
				s := singleTimeout(t, srv, tolerant, 200)
				h := sha256.Sum256([]byte("x"))
				s.LockCheck(context.Background(), nil, h[:], 3) // a pooled connection
				srv.Pause()
				defer srv.Resume()
				probeOnce(t, s, &warnings{}, "timeout")
				srv.Resume()
				time.Sleep(RetryInterval + 50*time.Millisecond)
				if _, local, err := s.LockCheck(context.Background(), nil, h[:], 3); err != nil || local {
					t.Fatalf("no recovery after SIGCONT: local=%v %v", local, err)
				}
			})
			t.Run("wrong password", func(t *testing.T) {
				srv := redistest.Start(t, redistest.Options{Password: "right"})
				s := store(t, Config{Host: "127.0.0.1", Port: ptr(srv.Port), Password: "wrong"}, tolerant)
				probeOnce(t, s, &warnings{}, "auth")
			})
			t.Run("TLS to a plain port", func(t *testing.T) {
				srv := redistest.Start(t, redistest.Options{})
				s := store(t, Config{Host: "127.0.0.1", Port: ptr(srv.Port), SSL: true, SSLVerify: ptr(false)}, tolerant)
				probeOnce(t, s, &warnings{}, "tls")
			})
			t.Run("password_env unset", func(t *testing.T) {
				srv := redistest.Start(t, redistest.Options{Password: "right"})
				s := store(t, Config{Host: "127.0.0.1", Port: ptr(srv.Port), PasswordEnv: "AUTHKIT_TEST_UNSET_REDIS_PW"}, tolerant)
				probeOnce(t, s, &warnings{}, "config")
			})
		})
	}
}
