package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/promtest"
	"github.com/kong-authkit/kong-authkit/pkg/authlog"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// TestConfigInvalidLogIsThrottled (issue 23): a config that does not
// compile refuses every request with 500 CONFIG_INVALID and its per-request
// serialize value, but writes its error.log line at most once per
// gateway.RefusalLogInterval, with the count of the requests it refused
// since its previous line; the tail is written by a later event (here on
// another route). The clock is the test seam's X-Authkit-Test-Now.
func TestConfigInvalidLogIsThrottled(t *testing.T) {
	t.Run("config", func(t *testing.T) {
		s, url := metricsPlugin(t)
		cfg := baseConfig(t)
		cfg["credentials"] = append(cfg["credentials"].([]any), map[string]any{"username": "carol", "password_hash": "hunter2", "consumer": "alice"})
		checkThrottled(t, s.StartInstance(t, cfg), s.StartInstance(t, baseConfig(t)), "credentials[2].password_hash", url)
	})
	t.Run("credentials_file", func(t *testing.T) {
		// Compiles, but every request finds the file broken.
		s, url := metricsPlugin(t)
		path := filepath.Join(t.TempDir(), "users.json")
		if err := os.WriteFile(path, []byte(`[{"username":"carol","password_hash":"hunter2","consumer":"alice"}]`), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig(t)
		cfg["credentials_file"] = path
		checkThrottled(t, s.StartInstance(t, cfg), s.StartInstance(t, baseConfig(t)), "password_hash", url)
	})
}

func checkThrottled(t *testing.T, broken, good *kongwire.Instance, detail, metricsURL string) {
	t.Helper()
	t0 := time.UnixMilli(1_800_000_000_000)
	const n = 300
	step := 100 * time.Millisecond // 30 s of refusals
	var lines []string
	// The lines as Kong writes them to error.log: authkit logs counts only
	// the plugins' own line shape.
	errorLog := func(res *kongwire.Result, r *kongwire.Request, d time.Duration) []string {
		var out []string
		for _, l := range res.ErrorLogLines(r, t0.Add(d)) {
			if strings.Contains(l, " authkit {") {
				out = append(out, l)
			}
		}
		return out
	}
	for i := 0; i < n; i++ {
		d := time.Duration(i) * step
		r := get("Authorization", basic("alice", "alice-pw"), "X-Authkit-Test-Now", strconv.FormatInt(t0.Add(d).UnixMilli(), 10))
		res := broken.Access(t, r)
		if !res.Exited || res.Status != 500 || !strings.Contains(string(res.Body), `"code":"CONFIG_INVALID"`) {
			t.Fatalf("request %d: %d %s", i, res.Status, res.Body)
		}
		if v, _ := res.Serialize["authkit"].(map[string]any); v == nil || v["code"] != "CONFIG_INVALID" || v["count"] != nil {
			t.Fatalf("request %d: serialize value %v, want one per request, without count", i, res.Serialize)
		}
		lines = append(lines, errorLog(res, r, d)...)
	}
	end := time.Duration(n)*step + gateway.RefusalLogInterval
	r := get("Authorization", basic("alice", "alice-pw"), "X-Authkit-Test-Now", strconv.FormatInt(t0.Add(end).UnixMilli(), 10))
	tail := good.Access(t, r)
	accepted(t, tail, aliceID, "alice", "alice")
	lines = append(lines, errorLog(tail, r, end)...)

	var sum int64
	refusals := 0
	for _, l := range lines {
		ev, _, err := authlog.ParseLine([]byte(l))
		if err == nil && ev.Record.Decision() == errcode.OutcomeAccepted {
			continue // the good config's own warning (mixed hash costs)
		}
		if err != nil || ev.Record.Code != "CONFIG_INVALID" || ev.Record.RouteID != broken.RouteID || ev.Record.Count < 1 {
			t.Fatalf("line %q: %v", l, err)
		}
		if !strings.Contains(ev.Record.Detail, detail) || strings.Contains(l, "hunter2") {
			t.Fatalf("line %q", l)
		}
		sum += ev.Record.Events()
		refusals++
	}
	// The metric stays per request.
	m := promtest.Scrape(t, metricsURL)
	if got := m.Sum("authkit_decisions_total", map[string]string{"route_id": broken.RouteID, "outcome": "refused", "code": "CONFIG_INVALID"}); got != n {
		t.Fatalf("authkit_decisions_total counted %v refusals, want %d", got, n)
	}
	maxLines := int((end+gateway.RefusalLogInterval-1)/gateway.RefusalLogInterval) + 1
	if sum != n || refusals > maxLines {
		t.Fatalf("%d refusals over %v: %d lines (at most %d), counts sum to %d:\n%s", n, end, refusals, maxLines, sum, strings.Join(lines, "\n"))
	}
}
