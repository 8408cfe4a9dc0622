package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// TestLogsUntrusted: logs are untrusted input (issue 24). Lines that quote
// a record without being the plugins' own are counted apart, never as
// events, and control characters in any field reach the terminal escaped.
func TestLogsUntrusted(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	fake := `authkit {"plugin":"authkit-basic","code":"BASIC_LOCKED_OUT","status":429}`
	evil := rec("authkit-\x1b[2Jbasic", "BASIC_MISSING", 401, "r-\x1b]0;pwned\x07")
	evil.Consumer = "bob\x1b[31m"
	lines := []string{
		errLine(at, "notice", evil, "172.18.0.1", "GET / HTTP/1.1"),
		fileLine(at, rec("authkit-key", "APIKEY_MISSING", 401, ""), "10.0.0.1\x1b[2J", "r-k", "key\u202eevil", "eve\x1b[H", 401),
		at.Format("2006/01/02 15:04:05") + ` [info] 1#0: *6 client sent invalid header line: "X_Evil: ` + fake + `" while reading client request headers, client: 1.2.3.4, server: kong`,
		at.Format("2006/01/02 15:04:05") + ` [notice] 1#0: *6 [lua] custom.lua:12: user said ` + fake + `, client: 1.2.3.4, server: kong`,
		"kong-1  | " + at.Format("2006/01/02 15:04:05") + ` [notice] 1#0: *6 [lua] custom.lua:12: user said ` + fake,
	}
	in := strings.Join(lines, "\n") + "\n"
	out, errOut, code := cli(t, in, "logs", "--tz", "UTC")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"5 lines: 2 authkit events, 0 not authkit, 0 unparseable",
		"3 lines mention authkit but were not written by the plugins (not counted):",
		"  stdin:3\n  stdin:4\n  stdin:5\n",
		`(authkit-\x1b[2Jbasic)`,
		`r-\x1b]0;pwned\x07 ×1`,
		`bob\x1b[31m ×1`,
		`10.0.0.1\x1b[2J ×1`,
		`eve\x1b[H ×1`,
		`key\u202eevil (r-k) ×1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "BASIC_LOCKED_OUT") {
		t.Errorf("a quoted record was counted:\n%s", out)
	}
	for _, c := range out {
		if c == 0x1b || c == 0x07 || c == '\u202e' {
			t.Fatalf("raw %U reached the output:\n%q", c, out)
		}
	}
	// --json stays JSON: the values are exact, encoded by encoding/json.
	doc := logsJSONOf(t, in)
	if doc.Totals.Foreign != 3 || doc.Totals.Events != 2 || len(doc.Foreign) != 3 || doc.Foreign[0].Line != 3 {
		t.Errorf("json totals %+v foreign %+v", doc.Totals, doc.Foreign)
	}
	if c := codeOf(doc, "BASIC_MISSING"); c == nil || c.Plugins[0] != "authkit-\x1b[2Jbasic" {
		t.Errorf("json plugins: %+v", c)
	}
}

// The --follow event line escapes too.
func TestLogsFollowEventEscaped(t *testing.T) {
	r := &reporter{loc: time.UTC}
	var b strings.Builder
	ev := authlog.Event{Record: authlog.Record{Code: "X\x1b[2J", Plugin: "p\x1b", Detail: "d\x1b"}, Client: "c\x1b", Consumer: "u\x1b", Route: "r\x1b", Method: "GET", Path: "/\x1b"}
	r.event(&b, ev)
	if strings.ContainsRune(b.String(), 0x1b) || !strings.Contains(b.String(), `X\x1b[2J`) {
		t.Errorf("%q", b.String())
	}
}

// TestLogsUntimed: an event whose time cannot be read is never silently
// kept without one: the summary says how many, and whether --since/--until
// excluded them.
func TestLogsUntimed(t *testing.T) {
	now := time.Now().UTC()
	timed := errLine(now.Add(-10*time.Minute), "notice", rec("authkit-basic", "BASIC_MISSING", 401, "r"), "1.1.1.1", "GET / HTTP/1.1")
	untimed := fmt.Sprintf(`{"started_at":"later","authkit":%s}`, mustJSON(rec("authkit-key", "APIKEY_MISSING", 401, "r").Serialized()))
	in := timed + "\n" + untimed + "\n" + untimed + "\n"
	for _, tc := range []struct {
		args    []string
		matched int64
		say     string
	}{
		{nil, 3, "2 events had no readable time (counted, but not in FIRST/LAST)"},
		{[]string{"--since", "1h"}, 1, "2 events had no readable time and were excluded by --since/--until"},
		{[]string{"--until", "1m"}, 1, "2 events had no readable time and were excluded by --since/--until"},
		{[]string{"--since", "1h", "--until", "20m"}, 0, "excluded by --since/--until"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := cli(t, in, append([]string{"logs", "--tz", "UTC"}, tc.args...)...)
			if code != 0 || !strings.Contains(out, tc.say) {
				t.Errorf("exit %d %s: missing %q in\n%s", code, errOut, tc.say, out)
			}
			doc := logsJSONOf(t, in, tc.args...)
			if doc.Totals.Untimed != 2 || doc.Totals.Matched != tc.matched {
				t.Errorf("totals %+v", doc.Totals)
			}
		})
	}
	if _, _, code := cli(t, "", "logs", "--until", "soon"); code != 2 {
		t.Errorf("--until soon: exit %d, want 2", code)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
