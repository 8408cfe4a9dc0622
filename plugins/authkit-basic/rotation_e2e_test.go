package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/churntest"
	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Issue 23, defect 3: Redis pools were keyed by every connection setting,
// password and timeout included, never closed, and capped at 64: the 65th
// distinct setting (a rotated password) made the next config answer 500
// CONFIG_INVALID until the process restarted, and every old pool kept its
// connections. Here 80 rotations, as Kong makes them (start the new
// instance, close the old one), each login succeeds, and once the release
// grace (test knob) has passed one pool and its connections are left.
func TestRedisPasswordRotation(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	bin := kongwire.Build(t, "authkit-basic", "authkit_testseam")
	s := kongwire.StartArgs(t, bin, []string{"-metrics-listen", "127.0.0.1:0"}, pluginserver.EnvTestLifetimes+"=200ms,1m")
	s.SetConsumers(kongwire.Consumer{ID: aliceID, Username: "alice", CustomID: "cust-alice"})
	w := churntest.Target{Pid: s.Pid(), Metrics: s.MetricsURL(t), Redis: srv, RedisUser: "rot"}
	var prev *kongwire.Instance
	for i := range 80 {
		pw := fmt.Sprintf("rotated-%d", i)
		if _, err := srv.Cmd("ACL", "SETUSER", "rot", "on", "resetpass", ">"+pw, "~*", "+@all"); err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig(t)
		cfg["max_failures"], cfg["lockout_seconds"], cfg["policy"], cfg["fault_tolerant"] = 3, 60, "redis", false
		cfg["redis"] = map[string]any{"host": "127.0.0.1", "port": srv.Port, "username": "rot", "password": pw,
			"timeout_ms": 5000 + i%3, "key_prefix": "rot:"}
		inst := s.StartInstance(t, cfg)
		res := inst.Access(t, get("Authorization", basic("alice", "alice-pw")))
		if res.Err != nil || !res.Authenticated {
			t.Fatalf("rotation %d: %d %s", i, res.Status, res.Body)
		}
		if prev != nil {
			s.CloseInstance(t, prev)
		}
		prev = inst
	}
	f, ok := w.Settle(t, 10*time.Second, func(f churntest.Figures) bool {
		return f.Pools == 1 && f.Compiled == 1 && f.RedisConns <= 2
	})
	t.Logf("after 80 password rotations: %s", f)
	if !ok {
		t.Fatalf("old pools were not closed: %s", f)
	}
}
