package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func logsJSONOf(t *testing.T, stdin string, args ...string) logsJSON {
	t.Helper()
	out, errOut, code := cli(t, stdin, append([]string{"logs", "--json", "--tz", "UTC"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc logsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return doc
}

func codeOf(doc logsJSON, code string) *codeJSON {
	for i := range doc.Codes {
		if doc.Codes[i].Code == code {
			return &doc.Codes[i]
		}
	}
	return nil
}

func TestLogsCounts(t *testing.T) {
	f := newFixture()
	path := f.write(t)
	doc := logsJSONOf(t, "", path)

	want := authlog.Totals{
		Lines: int64(len(f.lines)), Events: int64(f.events), Matched: int64(f.events),
		NotAuthkit: int64(f.notAuthkit), Unparseable: int64(f.unparseable), Foreign: int64(f.foreign),
	}
	if doc.Totals != want {
		t.Fatalf("totals %+v, want %+v", doc.Totals, want)
	}
	if len(doc.Unparseable) != authlog.MaxLineRefs || doc.Unparseable[0].Source != path {
		t.Errorf("unparseable refs: %+v", doc.Unparseable)
	}
	if len(doc.Codes) != len(f.perCode) {
		t.Errorf("%d codes, want %d", len(doc.Codes), len(f.perCode))
	}
	for code, n := range f.perCode {
		c := codeOf(doc, code)
		if c == nil || c.Count != int64(n) || !c.InCatalog || c.Cause == "" || c.Hint == "" {
			t.Errorf("%s: %+v, want count %d", code, c, n)
		}
	}
	bic := codeOf(doc, "BASIC_INVALID_CREDENTIALS")
	if !bic.First.Equal(f.base) || !bic.Last.Equal(f.base.Add(40*time.Minute)) || bic.Status != 401 {
		t.Errorf("first/last/status: %v %v %d", bic.First, bic.Last, bic.Status)
	}
	for _, r := range bic.Routes.Top {
		if f.basicRoutes[r.Key] != int(r.Count) {
			t.Errorf("route %s: %d, want %d", r.Key, r.Count, f.basicRoutes[r.Key])
		}
	}
	if top := bic.Clients.Top[0]; top.Key != "172.18.0.1" || top.Count != 3 {
		t.Errorf("clients: %+v", bic.Clients)
	}
	key := codeOf(doc, "APIKEY_INVALID")
	if key.Anonymous != 1 || key.Routes.Top[0] != (authlog.KeyCount{Key: "r-orders", Name: "orders", Count: 2}) {
		t.Errorf("APIKEY_INVALID: %+v", key)
	}
	// The outcomes use the catalog's vocabulary, the metrics' outcome label.
	if key.Outcomes[errcode.OutcomeAnonymous] != 1 || key.Outcomes[errcode.OutcomeRefused] != key.Count-1 || len(key.Outcomes) != len(errcode.Outcomes()) {
		t.Errorf("APIKEY_INVALID outcomes: %v (count %d)", key.Outcomes, key.Count)
	}
	if key.Consumers.Top[0].Key != "" || key.Consumers.Top[1].Key != "anonymous" {
		t.Errorf("consumers: %+v", key.Consumers)
	}
	if strings.Contains(fmt.Sprint(doc), "SECRET") {
		t.Error("a query-string credential leaked into the report")
	}
}

func TestLogsStdinAndHumanOutput(t *testing.T) {
	f := newFixture()
	in := strings.Join(f.lines, "\n") // no final newline
	out, errOut, code := cli(t, in, "logs", "--tz", "UTC")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		fmt.Sprintf("%d lines: %d authkit events, %d not authkit, %d unparseable", len(f.lines), f.events, f.notAuthkit, f.unparseable),
		"BASIC_INVALID_CREDENTIALS   401     4      2026-11-27 10:00:00  2026-11-27 10:40:00",
		"routes     basic (r-basic) ×3, r-other ×1", // the name comes from a file-log entry of the same route
		"clients    172.18.0.1 ×3, 172.18.0.2 ×1",
		"orders (r-orders) ×2",
		"anonymous  1 fell back",
		"cause      " + errcode.BasicInvalidCredentials.Entry().Cause,
		"fix        " + errcode.BasicInvalidCredentials.Entry().Hint,
		fmt.Sprintf("stdin:%d  authlog: malformed authkit record: truncated JSON", len(f.lines)-f.unparseable+1),
		fmt.Sprintf("stdin:%d  authlog: line too long", len(f.lines)),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if testing.Verbose() {
		t.Logf("\n%s", out)
	}
	// "-" is stdin too, and may be mixed with files.
	doc := logsJSONOf(t, in, "-", f.write(t))
	if doc.Totals.Events != int64(2*f.events) {
		t.Errorf("stdin + file: %+v", doc.Totals)
	}
}

func TestLogsFilters(t *testing.T) {
	f := newFixture()
	path := f.write(t)
	for _, tc := range []struct {
		args  []string
		codes map[string]int64
	}{
		{[]string{"--since", "2026-11-27T10:30:00Z"}, map[string]int64{"BASIC_INVALID_CREDENTIALS": 1, "OAUTH_TOKEN_EXPIRED": 1, "OAUTH_PROVIDER_UNREACHABLE": 1, "APIKEY_INVALID": 1}},
		{[]string{"--code", "basic_invalid_credentials", "--code", "APIKEY_INVALID"}, map[string]int64{"BASIC_INVALID_CREDENTIALS": 4, "APIKEY_INVALID": 2}},
		{[]string{"--code", "BASIC_MISSING,OAUTH_TOKEN_EXPIRED"}, map[string]int64{"BASIC_MISSING": 1, "OAUTH_TOKEN_EXPIRED": 2}},
		{[]string{"--plugin", "authkit-oauth"}, map[string]int64{"OAUTH_TOKEN_EXPIRED": 2, "OAUTH_PROVIDER_UNREACHABLE": 2}},
		{[]string{"--plugin", "authkit-key", "--since", "2026-11-27T10:08:00Z"}, map[string]int64{"APIKEY_INVALID": 2}},
		{[]string{"--code", "NOPE"}, map[string]int64{}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			doc := logsJSONOf(t, "", append(tc.args, path)...)
			got := map[string]int64{}
			var sum int64
			for _, c := range doc.Codes {
				got[c.Code] = c.Count
				sum += c.Count
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.codes) {
				t.Errorf("got %v, want %v", got, tc.codes)
			}
			if doc.Totals.Matched != sum || doc.Totals.Events != int64(f.events) || doc.Totals.Lines != int64(len(f.lines)) {
				t.Errorf("totals %+v", doc.Totals)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"1h": now.Add(-time.Hour), "90m": now.Add(-90 * time.Minute), "2d": now.Add(-48 * time.Hour),
		"2026-11-27T10:00:00Z": now.Add(-2 * time.Hour), "2026-11-27T11:00:00+01:00": now.Add(-2 * time.Hour),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "yesterday", "-1h", "2026-11-27"} {
		if _, err := parseSince(in, now); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	// Relative --since through the command: only the recent event counts.
	recent := errLine(time.Now().Add(-10*time.Minute), "notice", rec("authkit-basic", "BASIC_MISSING", 401, "r"), "1.1.1.1", "GET / HTTP/1.1")
	old := errLine(time.Now().Add(-3*time.Hour), "notice", rec("authkit-basic", "BASIC_MISSING", 401, "r"), "1.1.1.1", "GET / HTTP/1.1")
	if doc := logsJSONOf(t, old+"\n"+recent+"\n", "--since", "1h"); doc.Totals.Matched != 1 || doc.Totals.Events != 2 {
		t.Errorf("--since 1h: %+v", doc.Totals)
	}
}

func TestLogsErrors(t *testing.T) {
	path := newFixture().write(t)
	out, errOut, code := cli(t, "", "logs", "--json", filepath.Join(t.TempDir(), "missing.log"), path)
	if code != 1 || !strings.Contains(errOut, "missing.log") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
	var doc logsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Totals.Events == 0 {
		t.Errorf("the readable file must still be reported: %v %+v", err, doc.Totals)
	}
	for _, args := range [][]string{
		{"logs", "--since", "yesterday"},
		{"logs", "--tz", "Mars/Olympus"},
		{"logs", "--follow"},
		{"logs", "--follow", "a", "b"},
		{"logs", "--bogus"},
		{"nope"},
	} {
		if _, _, code := cli(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// An empty input is a report with zeros, not an error.
	if out, _, code := cli(t, "", "logs"); code != 0 || !strings.Contains(out, "0 lines") {
		t.Errorf("empty: %d %q", code, out)
	}
}

func TestLogsFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "error.log")
	line := func(code string, min int) string {
		return errLine(time.Date(2026, 11, 27, 10, min, 0, 0, time.UTC), "notice", rec("authkit-basic", code, 401, "r"), "1.1.1.1", "GET / HTTP/1.1") + "\n"
	}
	appendTo := func(p, s string) {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	appendTo(path, line("BASIC_OLD", 0)) // before the follower starts: skipped

	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"logs", "-f", "--json", "--tz", "UTC", "--poll", "5ms", path}, strings.NewReader(""), &out, &errOut)
	}()
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(out.String(), what) < n {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %d× %s; output:\n%s\nstderr: %s", n, what, out.String(), errOut.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond) // let it seek to the end
	appendTo(path, line("BASIC_A", 1))
	half := line("BASIC_B", 2)
	appendTo(path, half[:40]) // a line written in two parts
	time.Sleep(30 * time.Millisecond)
	appendTo(path, half[40:])
	waitFor(`"code":"BASIC_B"`, 1)

	// copytruncate
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	appendTo(path, line("BASIC_C", 3))
	waitFor(`"code":"BASIC_C"`, 1)

	// rename + create; the last line of the old file has no newline.
	appendTo(path, strings.TrimSuffix(line("BASIC_D", 4), "\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(path, line("BASIC_E", 5))
	waitFor(`"code":"BASIC_E"`, 1)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	s := out.String()
	if strings.Contains(s, "BASIC_OLD") || strings.Count(s, `"code":"BASIC_D"`) != 1 {
		t.Errorf("output:\n%s", s)
	}
	// Each event names its outcome in the catalog's vocabulary.
	if n := strings.Count(s, `"outcome":"refused"`); n != 5 {
		t.Errorf("%d events with outcome refused, want 5:\n%s", n, s)
	}
	// The summary follows the event lines.
	var doc logsJSON
	if err := json.Unmarshal([]byte(s[strings.Index(s, "{\n"):]), &doc); err != nil {
		t.Fatalf("summary: %v\n%s", err, s)
	}
	if doc.Totals.Events != 5 || doc.Totals.Unparseable != 0 || len(doc.Codes) != 5 {
		t.Errorf("summary totals %+v codes %d", doc.Totals, len(doc.Codes))
	}
}
