package main

import (
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// TestFollowPrintsCount: --follow shows how many refusals a throttled
// CONFIG_INVALID line stands for, and nothing for a line of one request.
func TestFollowPrintsCount(t *testing.T) {
	r := &reporter{loc: time.UTC}
	var b strings.Builder
	r.event(&b, authlog.Event{Record: authlog.Record{Code: "CONFIG_INVALID", Status: 500, Count: 1873}})
	r.event(&b, authlog.Event{Record: authlog.Record{Code: "CONFIG_INVALID", Status: 500, Count: 1}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "×1873") || strings.Contains(lines[1], "×") {
		t.Fatalf("%q", lines)
	}
}
