package authlog

import (
	"errors"
	"testing"
)

// FuzzParseLine checks the parser's contract on arbitrary input: no panic,
// errors only for our two kinds and always one of the sentinels, and a
// parsed record always has a code.
func FuzzParseLine(f *testing.F) {
	rec := basicRecord()
	f.Add([]byte(kongLine("2026/11/27 10:00:00", "notice", rec.Line(), reqTrailer)))
	f.Add([]byte(kongLine("2026/11/27 10:00:00", "info", rec.Line(), ", context: ngx.timer")))
	f.Add([]byte(fileLogLine(f, rec, nil)))
	f.Add([]byte(fileLogLine(f, nil, nil)))
	f.Add([]byte(`authkit {"code":"X","status":"401"}, client: "`))
	f.Add([]byte(`{"authkit":{"code":1}}`))
	f.Add([]byte(`authkit {"code":"CONFIG_INVALID","status":500,"count":42}`))
	f.Add([]byte(`authkit {"code":"CONFIG_INVALID","count":"-1"}`))
	f.Add([]byte("authkit {"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, kind, err := ParseLine(line)
		if err != nil {
			if kind == Other {
				t.Fatalf("error with kind Other: %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMissingField) && !errors.Is(err, ErrWrongType) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if kind != Other && ev.Record.Code == "" {
			t.Fatalf("kind %v without a code", kind)
		}
		if kind == Other && ev.Record.Code != "" {
			t.Fatalf("Other with a record")
		}
		if n := ev.Record.Events(); n < 1 || n > MaxCount {
			t.Fatalf("a record stands for %d events", n)
		}
	})
}
