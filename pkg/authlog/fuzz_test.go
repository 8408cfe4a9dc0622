package authlog

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"time"
)

// pluginShape is the only error.log shape that may yield an event.
var pluginShape = regexp.MustCompile(`\[kong\] pb_rpc\.lua:[0-9]+ authkit \{`)

// FuzzParseLine checks the parser's contract on arbitrary input: no panic,
// errors only for our two kinds and always one of the sentinels, a parsed
// record always has a code, a Foreign line mentions the marker, and an
// error.log event comes from the plugins' shape.
func FuzzParseLine(f *testing.F) {
	rec := basicRecord()
	f.Add([]byte(kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer)))
	f.Add([]byte(kongLine("2026/11/27 10:00:00", "info", rec.Line(), ", context: ngx.timer")))
	f.Add([]byte("kong-1  | 2026-11-27T10:00:00.5Z " + kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer)))
	f.Add([]byte("[pod/kong-1/proxy] 2026-11-27T10:00:00Z " + kongLine("2026/11/27 10:00:00", "notice", rec.Line(), "")))
	f.Add([]byte("Nov 27 10:00:00 gw kong[12]: " + kongLine("2026/11/27 10:00:00", "notice", rec.Line(), "")))
	f.Add([]byte(`2026/11/27 10:00:00 [info] 1#0: *6 client sent invalid header line: "X: authkit {\"code\":\"A\"}"`))
	f.Add([]byte(fileLogLine(f, rec, nil)))
	f.Add([]byte(fileLogLine(f, nil, nil)))
	f.Add([]byte(`authkit {"code":"X","status":"401"}, client: "`))
	f.Add([]byte(`{"authkit":{"code":1}}`))
	f.Add([]byte(`authkit {"code":"CONFIG_INVALID","status":500,"count":42}`))
	f.Add([]byte(`authkit {"code":"CONFIG_INVALID","count":"-1"}`))
	f.Add([]byte("authkit {"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		p := Parser{Location: time.UTC, Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}
		ev, kind, err := p.Parse(line)
		if err != nil {
			if kind == Other || kind == Foreign {
				t.Fatalf("error with kind %v: %v", kind, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMissingField) && !errors.Is(err, ErrWrongType) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		switch kind {
		case Other, Foreign:
			if ev.Record.Code != "" {
				t.Fatalf("%v with a record", kind)
			}
			if kind == Foreign && !bytes.Contains(line, marker) {
				t.Fatalf("foreign without the marker")
			}
		case ErrorLog:
			if ev.Record.Code == "" || !pluginShape.Match(line) {
				t.Fatalf("error.log event without a code or outside the plugins' shape: %q", line)
			}
		case SerializedLog:
			if ev.Record.Code == "" {
				t.Fatalf("file-log event without a code")
			}
		}
	})
}

var serviceName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// FuzzWrappers checks that every collector prefix, whatever its service
// name and time, leaves the plugins' record and its time intact.
func FuzzWrappers(f *testing.F) {
	f.Add("kong-1", int64(1795773600123456789), uint8(0))
	f.Add("kong", int64(0), uint8(1))
	f.Add("x_1", int64(-5), uint8(2))
	line := kongLine("2026/11/27 10:00:00", "notice", basicRecord().Line(), reqTrailer)
	f.Fuzz(func(t *testing.T, name string, nanos int64, form uint8) {
		ts := time.Unix(0, nanos).UTC()
		if ts.Year() < 1000 || ts.Year() > 9999 {
			return // RFC 3339 needs four digits
		}
		stamp := ts.Format(time.RFC3339Nano)
		var in string
		switch form % 3 {
		case 0:
			in = name + "  | " + stamp + " " + line
		case 1:
			in = "[pod/" + name + "/proxy] " + stamp + " " + line
		default:
			in = stamp + " " + line
		}
		ev, kind, err := Parser{Location: time.UTC}.Parse([]byte(in))
		if !serviceName.MatchString(name) {
			return // an odd name may make the prefix unreadable; Parse must only not panic
		}
		if err != nil || kind != ErrorLog || ev.Record.Code != basicRecord().Code || !ev.Time.Equal(ts) {
			t.Fatalf("%q: kind %v err %v time %v code %q", in, kind, err, ev.Time, ev.Record.Code)
		}
		if n := ev.Record.Events(); n < 1 || n > MaxCount {
			t.Fatalf("a record stands for %d events", n)
		}
	})
}
