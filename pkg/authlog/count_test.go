package authlog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCountField: a line with "count": N stands for N events (a config
// that does not compile logs its refusals once per interval); an absent
// count is 1; a count that no plugin writes is a wrong type, never a
// silent 1.
func TestCountField(t *testing.T) {
	broken := &Record{Plugin: "authkit-basic", Code: "CONFIG_INVALID", Status: 500, Detail: "credentials[0].password_hash: plaintext", RouteID: "r-1"}
	line := func(count string) string {
		l := broken.Line()
		if count != "" {
			l = strings.Replace(l, `"status":500`, `"status":500,"count":`+count, 1)
		}
		return kongLine("2026/11/27 10:00:00", "error", l, reqTrailer)
	}
	tests := []struct {
		name    string
		count   string
		want    int64
		wantErr error
	}{
		{"absent", "", 1, nil},
		{"one", "1", 1, nil},
		{"many", "4711", 4711, nil},
		{"as a string", `"12"`, 12, nil},
		{"zero", "0", 0, ErrWrongType},
		{"negative", "-3", 0, ErrWrongType},
		{"fraction", "2.5", 0, ErrWrongType},
		{"huge", "1e300", 0, ErrWrongType},
		{"object", "{}", 0, ErrWrongType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, _, err := Parser{Location: time.UTC}.Parse([]byte(line(tc.count)))
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil && ev.Record.Events() != tc.want {
				t.Fatalf("events %d, want %d", ev.Record.Events(), tc.want)
			}
		})
	}

	a := NewAggregator(Filter{})
	a.Parser = Parser{Location: time.UTC}
	a.AddLine("f", 1, []byte(line("1")))
	a.AddLine("f", 2, []byte(line("250")))
	a.AddLine("f", 3, []byte(line("")))
	a.AddLine("f", 4, []byte(fileLogLine(t, broken, nil))) // a serialize value: one request
	r := a.Report()
	if r.Totals.Lines != 4 || r.Totals.Events != 253 || r.Totals.Matched != 253 {
		t.Fatalf("totals %+v", r.Totals)
	}
	c := r.Codes[0]
	if c.Count != 253 || c.Outcomes["refused"] != 253 || c.Routes.Top[0].Count != 253 || c.Clients.Top[0].Count != 252 {
		t.Fatalf("code report %+v", c)
	}
}

// TestCountNotInSerializeValue: the per-request serialize value never
// carries a count (it is one request), only the throttled error.log line.
func TestCountNotInSerializeValue(t *testing.T) {
	r := &Record{Code: "CONFIG_INVALID", Count: 7}
	if _, ok := (&Record{Code: "CONFIG_INVALID"}).Serialized()["count"]; ok {
		t.Fatal("count in a record without one")
	}
	if !strings.Contains(r.Line(), `"count":7`) {
		t.Fatal(r.Line())
	}
}
