package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeLogsCommand starts the README's `authkit logs` example block.
const readmeLogsCommand = "$ docker compose -f deploy/compose.yaml logs -t kong | authkit "

// readmeLogsExample returns the example's `authkit …` arguments and its
// output lines ("…" stands for lines left out) from README.md.
func readmeLogsExample(t *testing.T) (args, want []string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), readmeLogsCommand)
	if !ok {
		t.Fatalf("README.md has no example starting %q", readmeLogsCommand)
	}
	block, _, _ = strings.Cut(block, "\n```")
	lines := strings.Split(block, "\n")
	return strings.Fields(lines[0]), lines[1:]
}

// composeLogs is what `docker compose logs -t kong` prints for a demo that
// refused requests in the last hour: Compose's prefix, Docker's RFC 3339
// time, then Kong's error.log line (UTC inside the container).
func composeLogs(now time.Time) string {
	var b strings.Builder
	line := func(ago time.Duration, msg string) {
		at := now.Add(-ago).UTC()
		fmt.Fprintf(&b, "kong-1  | %s %s %s\n", at.Format(time.RFC3339Nano), at.Format("2006/01/02 15:04:05"), msg)
	}
	refusal := func(ago time.Duration, plugin, code, route, client string) {
		r := rec(plugin, code, 401, declarativeID("routes", route))
		line(ago, fmt.Sprintf(`[notice] 1281#0: *%d [kong] pb_rpc.lua:233 %s, client: %s, server: kong, request: "GET /%s HTTP/1.1", host: "127.0.0.1:8000", request_id: "%x"`,
			ago/time.Second, r.Line(), client, strings.TrimSuffix(route, "-demo"), int64(ago)))
	}
	line(3*time.Hour, "[notice] 1#0: using the \"epoll\" event method")
	line(3*time.Hour, "[notice] 1#0: start worker processes")
	line(3*time.Hour, "[notice] 1281#0: *1 [kong] process.lua:152 [pluginserver] starting pluginserver process for authkit-basic, context: init_worker_by_lua*")
	refusal(2*time.Hour, "authkit-basic", "BASIC_INVALID_CREDENTIALS", "basic-demo", "172.18.0.1") // before --since
	refusal(50*time.Minute, "authkit-basic", "BASIC_INVALID_CREDENTIALS", "basic-demo", "172.18.0.1")
	refusal(45*time.Minute, "authkit-basic", "BASIC_INVALID_CREDENTIALS", "basic-demo", "172.18.0.1")
	refusal(40*time.Minute, "authkit-oauth", "OAUTH_TOKEN_EXPIRED", "oauth-demo", "172.18.0.1")
	line(35*time.Minute, `[info] 1281#0: *9 client sent invalid header line: "X_Evil: authkit {\"plugin\":\"authkit-basic\",\"code\":\"BASIC_LOCKED_OUT\"}" while reading client request headers, client: 172.18.0.9, server: kong, request: "GET /basic HTTP/1.1"`)
	refusal(30*time.Minute, "authkit-basic", "BASIC_INVALID_CREDENTIALS", "basic-demo", "172.18.0.7")
	refusal(10*time.Minute, "authkit-basic", "BASIC_INVALID_CREDENTIALS", "basic-demo", "172.18.0.1")
	refusal(5*time.Minute, "authkit-oauth", "OAUTH_TOKEN_EXPIRED", "oauth-demo", "172.18.0.1")
	return b.String()
}

// TestLogsReadmeExample runs the README's `docker compose … logs -t kong |
// authkit logs --since 1h --config kong.yaml` on Compose's output and
// checks that every line the README shows is printed, in order (times,
// which depend on when the test runs, match any time).
func TestLogsReadmeExample(t *testing.T) {
	args, want := readmeLogsExample(t)
	for i, a := range args {
		if a == "kong.yaml" {
			args[i] = "../../kong.yaml" // the README runs from the repository's root
		}
	}
	out, errOut, code := cli(t, composeLogs(time.Now()), args...)
	if code != 0 || errOut != "" {
		t.Fatalf("authkit %v: exit %d: %s", args, code, errOut)
	}
	if testing.Verbose() {
		t.Logf("\n%s", out)
	}
	got := strings.Split(out, "\n")
	at := 0
	for _, w := range want {
		if w == "…" {
			continue
		}
		re := readmeLine(w)
		for at < len(got) && !re.MatchString(got[at]) {
			at++
		}
		if at == len(got) {
			t.Fatalf("README line not printed (in order):\n%s\noutput:\n%s", w, out)
		}
		at++
	}
}

// readmeLine matches a README output line: any time where it shows one,
// any run of spaces where it shows one (table padding).
func readmeLine(s string) *regexp.Regexp {
	q := regexp.QuoteMeta(s)
	q = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`).ReplaceAllString(q, `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	q = regexp.MustCompile(` +`).ReplaceAllString(q, ` +`)
	return regexp.MustCompile(`^` + q + `$`)
}
