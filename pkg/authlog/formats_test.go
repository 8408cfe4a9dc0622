package authlog

import (
	"testing"
	"time"
)

// TestParseFormats reads one plugin line through every way people collect
// Kong's logs. nginx's own time is 10:00:00 local (UTC here); a collector's
// zoned time, when present, is preferred.
func TestParseFormats(t *testing.T) {
	rec := basicRecord()
	raw := kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer)
	file := fileLogLine(t, rec, nil)
	nginx := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	docker := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
	paris := time.Date(2026, 11, 27, 11, 0, 0, 500000000, time.FixedZone("", 3600))
	started := time.UnixMilli(1795773600000)
	for _, tc := range []struct {
		name, line string
		kind       Kind
		want       time.Time
	}{
		{"raw error.log", raw, ErrorLog, nginx},
		{"compose", "kong-1  | " + raw, ErrorLog, nginx},
		{"compose v1 name", "deploy_kong_1   | " + raw, ErrorLog, nginx},
		{"compose -t", "kong-1  | 2026-11-27T10:00:00.123456789Z " + raw, ErrorLog, docker},
		{"compose -t with offset", "kong-1  | 2026-11-27T11:00:00.5+01:00 " + raw, ErrorLog, paris},
		{"compose file-log", "kong-1  | " + file, SerializedLog, started},
		{"compose -t file-log", "kong-1  | 2026-11-27T10:00:00.123456789Z " + file, SerializedLog, started},
		{"docker logs -t", "2026-11-27T10:00:00.123456789Z " + raw, ErrorLog, docker},
		{"docker logs -t seconds", "2026-11-27T10:00:00Z " + raw, ErrorLog, nginx},
		{"kubectl --prefix --timestamps", "[pod/kong-7d9f-x2k/proxy] 2026-11-27T10:00:00.123456789Z " + raw, ErrorLog, docker},
		{"kubectl --prefix", "[pod/kong-7d9f-x2k/proxy] " + raw, ErrorLog, nginx},
		{"kubectl --timestamps", "2026-11-27T10:00:00.123456789Z " + raw, ErrorLog, docker},
		{"journald", "Nov 27 10:00:00 gw1 kong[812]: " + raw, ErrorLog, nginx},
		{"journald day padding", "Nov  7 10:00:00 gw1 kong[812]: " + kongLine("2026/11/07 10:00:00", "notice", rec.Line(), ""), ErrorLog, nginx.AddDate(0, 0, -20)},
		{"journald short-iso", "2026-11-27T10:00:00+0000 gw1 kong[812]: " + raw, ErrorLog, nginx},
		{"journald file-log", "Nov 27 10:00:00 gw1 kong[812]: " + file, SerializedLog, started},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Parser{Location: time.UTC, Now: func() time.Time { return nginx.Add(time.Hour) }}
			ev, kind, err := p.Parse([]byte(tc.line))
			if err != nil || kind != tc.kind {
				t.Fatalf("kind %v err %v", kind, err)
			}
			if ev.Record.Code != rec.Code || !ev.Time.Equal(tc.want) {
				t.Errorf("code %q time %v, want %v", ev.Record.Code, ev.Time, tc.want)
			}
			if kind == ErrorLog && ev.Level != "notice" {
				t.Errorf("level %q", ev.Level)
			}
		})
	}
}

// TestParseSyslogYear: journald's short stamp has no year; it is the one
// that puts the stamp at most a day after now.
func TestParseSyslogYear(t *testing.T) {
	now := time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		stamp string
		want  time.Time
	}{
		{"Jan  2 08:00:00", time.Date(2027, 1, 2, 8, 0, 0, 0, time.UTC)},
		{"Jan  3 08:59:00", time.Date(2027, 1, 3, 8, 59, 0, 0, time.UTC)}, // less than a day ahead: clock skew
		{"Dec 31 23:00:00", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"Jan  5 00:00:00", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)}, // in the future: last year
	} {
		// The nginx part is cut so the syslog stamp is the only time.
		line := tc.stamp + ` gw kong[1]: {"authkit":{"code":"X"}}`
		ev, kind, err := Parser{Location: time.UTC, Now: func() time.Time { return now }}.Parse([]byte(line))
		if err != nil || kind != SerializedLog || !ev.Time.Equal(tc.want) {
			t.Errorf("%s: %v %v %v, want %v", tc.stamp, kind, err, ev.Time, tc.want)
		}
	}
}

// TestParseForeign: only the plugins' own lines count. Text that quotes
// `authkit {…}` (a client's header in nginx's message, another plugin's
// message, a request line, a plugin process's stdout) is Foreign, in every
// collector's form.
func TestParseForeign(t *testing.T) {
	fake := `authkit {"plugin":"authkit-basic","code":"BASIC_LOCKED_OUT","status":429}`
	for _, line := range []string{
		`2026/11/27 10:00:00 [info] 1#0: *6 client sent invalid header line: "X_Evil: ` + fake + `" while reading client request headers, client: 1.2.3.4, server: kong`,
		`2026/11/27 10:00:00 [notice] 1#0: *6 [lua] handler.lua:12: user said ` + fake + `, client: 1.2.3.4, server: kong`,
		`2026/11/27 10:00:00 [notice] 1#0: *6 [kong] pb_rpc.lua:233 user said ` + fake + `, client: 1.2.3.4`,
		`2026/11/27 10:00:00 [notice] 1#0: *6 [kong] pb_rpc.lua:233 [other-plugin] ` + fake,
		`2026/11/27 10:00:00 [notice] 1#0: *6 [kong] init.lua:233 ` + fake,
		`2026/11/27 10:00:00 [error] 1#0: *5 oops, client: 1.2.3.4, server: kong, request: "GET /x ` + fake + ` HTTP/1.1"`,
		`2026/11/27 10:00:00 [info] 275#0: *2575 [authkit-basic:278] 2026/11/27 10:00:01 ` + fake + `, context: ngx.timer`,
		`2026/11/27 10:00:00 [bogus] 1#0: *6 [kong] pb_rpc.lua:233 ` + fake,
		`2026/11/27 10:00:00 [notice] 1#0:  *6 [kong] pb_rpc.lua:233 ` + fake,
		`2026/11/27 10:00:00 ` + fake,
		fake,
		`x` + fake,
		`kong-1  | ` + fake,
		`kong-1  | 2026/11/27 10:00:00 [info] 1#0: *6 client sent invalid header line: "X: ` + fake + `"`,
		`[pod/kong/proxy] 2026-11-27T10:00:00Z 2026/11/27 10:00:00 [notice] 1#0: *6 [lua] x.lua:1: ` + fake,
		`Nov 27 10:00:00 gw kong[1]: 2026/11/27 10:00:00 [notice] 1#0: *6 [lua] x.lua:1: ` + fake,
		`{"request":{"headers":{"x-evil":"` + `authkit {\"code\":\"BASIC_LOCKED_OUT\"}"}},"response":{"status":200}}`,
		`{"nested":{"authkit":{"code":"BASIC_LOCKED_OUT"}},"note":"authkit {"}`,
	} {
		ev, kind, err := Parser{Location: time.UTC}.Parse([]byte(line))
		if err != nil || kind != Foreign || ev.Record.Code != "" {
			t.Errorf("%s:\n kind %v err %v code %q, want foreign", line, kind, err, ev.Record.Code)
		}
	}
}
