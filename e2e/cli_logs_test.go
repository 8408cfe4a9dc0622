package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// logsReport is the part of `authkit logs --json` the test reads.
type logsReport struct {
	Totals struct {
		Events      int64 `json:"authkit_events"`
		Unparseable int64 `json:"unparseable"`
		Foreign     int64 `json:"foreign"`
		Untimed     int64 `json:"untimed_events"`
	} `json:"totals"`
	Codes []struct {
		Code      string `json:"code"`
		Count     int64  `json:"count"`
		Anonymous int64  `json:"anonymous"`
	} `json:"codes"`
}

func authkitLogs(t testing.TB, bin string, files ...string) (map[string]int64, map[string]int64, logsReport) {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, "authkit"), append([]string{"logs", "--json"}, files...)...).Output()
	if err != nil {
		t.Fatalf("authkit logs: %v: %s", err, out)
	}
	var r logsReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("authkit logs: %v: %s", err, out)
	}
	counts, anon := map[string]int64{}, map[string]int64{}
	for _, c := range r.Codes {
		counts[c.Code] = c.Count
		anon[c.Code] = c.Anonymous
	}
	return counts, anon, r
}

// tail copies what was appended to path after offset into a new file;
// with ids, only the lines naming one of those request ids.
func tail(t testing.TB, path string, offset int64, name string, ids ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[offset:]
	if len(ids) > 0 {
		var keep [][]byte
		for _, line := range bytes.Split(b, []byte("\n")) {
			for _, id := range ids {
				if bytes.Contains(line, []byte(id)) {
					keep = append(keep, line)
					break
				}
			}
		}
		b = append(bytes.Join(keep, []byte("\n")), '\n')
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// testCLILogs sends a mixed run with known refusal counts per code and
// checks that `authkit logs` over the run's real error.log and file-log
// output counts exactly those.
func testCLILogs(t *testing.T, f *fixture) {
	// error.log lines are written during the request: the offset cuts
	// exactly. file-log entries are written after the response, so the
	// file-log part is cut by this run's request ids as well.
	errOff, fileOff := size(f.kong.ErrorLogPath()), size(f.fileLog)

	want := map[string]int64{}
	var ids []string
	refuse := func(n int, code string, do func() *response) {
		for i := 0; i < n; i++ {
			r := do()
			if r.bodyCode() != code && r.Header.Get("X-Authkit-Code") != code {
				t.Fatalf("want %s, got %d %s", code, r.Status, r.Body)
			}
			ids = append(ids, r.ReqID)
		}
		want[code] += int64(n)
	}
	refuse(3, "BASIC_MISSING", func() *response { return get(t, f.kong, "/t/basic") })
	refuse(2, "BASIC_INVALID_CREDENTIALS", func() *response {
		return get(t, f.kong, "/t/basic", "Authorization", basicAuth("logs-user", "x"))
	})
	refuse(4, "APIKEY_MISSING", func() *response { return get(t, f.kong, "/t/key") })
	refuse(1, "APIKEY_EXPIRED", func() *response { return get(t, f.kong, "/t/key", "apikey", expiredKey) })
	refuse(2, "OAUTH_TOKEN_MISSING", func() *response { return get(t, f.kong, "/t/jwt") })
	refuse(1, "OAUTH_INSUFFICIENT_SCOPE", func() *response {
		return get(t, f.kong, "/t/jwt", "Authorization", bearer(f.signer.mint(t, claims(f.prov.issuer(), "scope", "write"))))
	})
	refuse(1, "OAUTH_PROVIDER_UNREACHABLE", func() *response {
		return get(t, f.kong, "/t/oauth-unreachable", "Authorization", bearer(f.signer.mint(t, claims(f.unreachable))))
	})
	refuse(2, "OAUTH_CLIENT_AUTH_FAILED", func() *response {
		return tokenPost(t, f, "/provider/oauth2/token", "grant_type=client_credentials", demoClient, "wrong")
	})
	// Accepted requests write no record...
	for i := 0; i < 5; i++ {
		r := get(t, f.kong, "/t/key", "apikey", aliceKey)
		r.echo(t)
		ids = append(ids, r.ReqID)
	}
	// ...and an anonymous fallback writes only the serialize value (no
	// error.log line): file-log counts it, as anonymous.
	anon := get(t, f.kong, "/t/or-basic")
	anon.echo(t)
	ids = append(ids, anon.ReqID)

	for _, id := range ids {
		fileLogEntry(t, f.fileLog, id) // every entry written
	}
	errLog := tail(t, f.kong.ErrorLogPath(), errOff, "error.log")
	fileLog := tail(t, f.fileLog, fileOff, "file-log.json", ids...)

	t.Run("error.log", func(t *testing.T) {
		got, _, r := authkitLogs(t, f.bin, errLog)
		same(t, got, want)
		if r.Totals.Unparseable != 0 {
			t.Errorf("%d unparseable lines in Kong's real error.log", r.Totals.Unparseable)
		}
	})
	t.Run("file-log", func(t *testing.T) {
		got, anonymous, r := authkitLogs(t, f.bin, fileLog)
		wantFile := map[string]int64{}
		for k, v := range want {
			wantFile[k] = v
		}
		wantFile["BASIC_MISSING"]++ // the anonymous fallback
		same(t, got, wantFile)
		if anonymous["BASIC_MISSING"] != 1 {
			t.Errorf("anonymous BASIC_MISSING %d, want 1", anonymous["BASIC_MISSING"])
		}
		if r.Totals.Unparseable != 0 {
			t.Errorf("%d unparseable lines in Kong's real file-log output", r.Totals.Unparseable)
		}
	})
	t.Run("collector prefixes", func(t *testing.T) { testCLILogsPrefixes(t, f, errLog, want) })
	t.Run("foreign lines", func(t *testing.T) { testCLILogsForeign(t, f) })
	t.Run("human output", func(t *testing.T) {
		out, err := exec.Command(filepath.Join(f.bin, "authkit"), "logs", errLog).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !bytes.Contains(out, []byte("APIKEY_MISSING")) || !strings.Contains(string(out), "fix") {
			t.Fatalf("authkit logs:\n%s", out)
		}
	})
}

func same(t testing.TB, got, want map[string]int64) {
	t.Helper()
	for code, n := range want {
		if got[code] != n {
			t.Errorf("%s: authkit logs counts %d, the test sent %d", code, got[code], n)
		}
	}
	for code, n := range got {
		if _, ok := want[code]; !ok {
			t.Errorf("authkit logs counts %d %s, the test sent none", n, code)
		}
	}
}

// testCLILogsPrefixes reads the run's real error.log as Compose, Docker,
// kubectl and journald print it: every form counts the same events, none
// of Kong's own lines is taken for a foreign one, and every event has a
// time.
func testCLILogsPrefixes(t *testing.T, f *fixture, errLog string, want map[string]int64) {
	b, err := os.ReadFile(errLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for name, prefix := range map[string]string{
		"compose":            "kong-1  | ",
		"compose -t":         "kong-1  | 2026-11-27T10:00:00.123456789Z ",
		"docker -t":          "2026-11-27T10:00:00.123456789Z ",
		"kubectl":            "[pod/kong-7d9f-x2k/proxy] 2026-11-27T10:00:00.123456789Z ",
		"journald":           "Nov 27 10:00:00 gw1 kong[812]: ",
		"journald short-iso": "2026-11-27T10:00:00+0000 gw1 kong[812]: ",
	} {
		t.Run(name, func(t *testing.T) {
			var w strings.Builder
			for _, l := range lines {
				w.WriteString(prefix + l + "\n")
			}
			path := filepath.Join(t.TempDir(), "wrapped.log")
			if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			got, _, r := authkitLogs(t, f.bin, path)
			same(t, got, want)
			if r.Totals.Unparseable != 0 || r.Totals.Foreign != 0 || r.Totals.Untimed != 0 {
				t.Errorf("totals %+v", r.Totals)
			}
		})
	}
}

// testCLILogsForeign reproduces issue 24 in real Kong: a client sends a
// header whose name nginx refuses (a dot: Kong turns underscores_in_headers
// on, so X_Evil passes), with a forged record as its value; nginx quotes
// it into error.log (at info). It must be counted apart, not
// as a BASIC_LOCKED_OUT; the request's own refusal still counts.
func testCLILogsForeign(t *testing.T, f *fixture) {
	off := size(f.kong.ErrorLogPath())
	forged := `authkit {"plugin":"authkit-basic","code":"BASIC_LOCKED_OUT","status":429}`
	r := get(t, f.kong, "/t/basic", "X.Evil", forged)
	if r.Status != 401 {
		t.Fatalf("want the 401 of BASIC_MISSING, got %d %s", r.Status, r.Body)
	}
	errorLogRecord(t, f.kong, r.ReqID) // the request's line is written
	errLog := tail(t, f.kong.ErrorLogPath(), off, "error.log")
	b, _ := os.ReadFile(errLog)
	if !strings.Contains(string(b), "client sent invalid header line") {
		t.Fatalf("nginx did not log the invalid header line:\n%s", b)
	}
	got, _, rep := authkitLogs(t, f.bin, errLog)
	same(t, got, map[string]int64{"BASIC_MISSING": 1})
	if rep.Totals.Foreign != 1 {
		t.Errorf("%d foreign lines, want 1 (nginx's quote of the header)", rep.Totals.Foreign)
	}
}
