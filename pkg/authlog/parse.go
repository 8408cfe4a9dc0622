package authlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// nginxTime is the timestamp layout of nginx's error.log (and, by
// coincidence, of Go's default log prefix).
const nginxTime = "2006/01/02 15:04:05"

// Parser reads authkit records back from log lines. The zero value is ready
// to use and reads error.log timestamps in time.Local.
type Parser struct {
	// Location is the zone error.log timestamps are read in: nginx writes
	// local time without an offset, so a log copied from a UTC container to
	// a laptop needs time.UTC here. Nil means time.Local. Syslog stamps
	// (journalctl's default output) are read in it too.
	Location *time.Location
	// Now gives the year of syslog stamps, which have none (see
	// cutSyslogTime). Nil means time.Now.
	Now func() time.Time
}

// ParseLine reads one line with the zero Parser. See Parser.Parse.
func ParseLine(line []byte) (Event, Kind, error) {
	return Parser{}.Parse(line)
}

// Parse classifies one log line (without its newline) and, for an authkit
// line, returns the event. The line may carry a log collector's prefix
// (Compose, Docker, kubectl, journald: see unwrap). A line that mentions
// `authkit {` without being one of the plugins' shapes is (Event{}, Foreign,
// nil); any other line without a record is (Event{}, Other, nil). An error
// is returned only with ErrorLog or SerializedLog, for a line that is ours
// but broken. Parse never panics and does not retain line.
func (p Parser) Parse(line []byte) (Event, Kind, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Event{}, Other, nil
	}
	rest, wrapped, exact := p.unwrap(line)
	var (
		ev   Event
		kind Kind
		err  error
	)
	if len(rest) > 0 && rest[0] == '{' {
		ev, kind, err = p.parseSerialized(rest)
	} else {
		ev, kind, err = p.parseErrorLog(rest)
	}
	if kind == Other && bytes.Contains(line, marker) {
		return Event{}, Foreign, nil
	}
	// A collector's zoned time beats nginx's local one (no --tz needed);
	// file-log's started_at is already absolute.
	if kind != Other && !wrapped.IsZero() && (ev.Time.IsZero() || exact && kind == ErrorLog) {
		ev.Time = wrapped
	}
	return ev, kind, err
}

var marker = []byte(Prefix + "{")

// parseErrorLog reads the one shape the plugins write into Kong's error.log
// (kong.log.<level> from Go, kong-go-plugins.md §4.2):
//
//	2026/11/27 10:00:00 [notice] 1234#0: *55 [kong] pb_rpc.lua:233 authkit {…}, client: …, request: "GET /x HTTP/1.1", host: "…", request_id: "…"
//
// The marker must follow nginx's prefix and `[kong] pb_rpc.lua:N ` directly
// (N differs across Kong versions). Anything else that mentions the marker
// was written by someone else and may carry client data: nginx's `client
// sent invalid header line: "X: authkit {…}"`, another plugin's `[lua] …
// authkit {…}`, a request line. Those are Other here and Foreign in Parse.
func (p Parser) parseErrorLog(line []byte) (Event, Kind, error) {
	var ev Event
	i, ok := p.parseHead(line, &ev)
	if !ok || !bytes.HasPrefix(line[i:], marker) {
		return Event{}, Other, nil
	}
	body := line[i+len(Prefix):]
	// The JSON can contain ", client:" inside a string (a detail quoting a
	// header), so its end is found by decoding it, never by splitting.
	dec := json.NewDecoder(bytes.NewReader(body))
	rec, err := decodeRecord(dec)
	if err != nil {
		return ev, ErrorLog, err
	}
	ev.Record = rec
	ev.Route = rec.RouteID
	ev.Consumer = rec.Consumer
	parseTrailer(body[dec.InputOffset():], &ev)
	return ev, ErrorLog, nil
}

// parseHead reads `TIME [level] PID#TID: [*CONN ][kong] pb_rpc.lua:N `,
// fills the time and level, and returns the offset after it.
func (p Parser) parseHead(line []byte, ev *Event) (int, bool) {
	if len(line) < len(nginxTime) {
		return 0, false
	}
	t, err := time.ParseInLocation(nginxTime, string(line[:len(nginxTime)]), p.location())
	if err != nil {
		return 0, false
	}
	s := line[len(nginxTime):]
	level, s, ok := cutBracket(s, " [", "] ")
	if !ok || !nginxLevels[string(level)] {
		return 0, false
	}
	if s, ok = cutNumber(s, '#'); !ok {
		return 0, false
	}
	if s, ok = cutNumber(s, ':'); !ok || len(s) == 0 || s[0] != ' ' {
		return 0, false
	}
	s = s[1:]
	if len(s) > 0 && s[0] == '*' {
		if s, ok = cutNumber(s[1:], ' '); !ok {
			return 0, false
		}
	}
	if s, ok = bytes.CutPrefix(s, []byte("[kong] pb_rpc.lua:")); !ok {
		return 0, false
	}
	if s, ok = cutNumber(s, ' '); !ok {
		return 0, false
	}
	ev.Time, ev.Level = t, string(level)
	return len(line) - len(s), true
}

// cutBracket reads open, a value, close.
func cutBracket(s []byte, open, close string) (val, rest []byte, ok bool) {
	s, ok = bytes.CutPrefix(s, []byte(open))
	if !ok {
		return nil, nil, false
	}
	val, rest, ok = bytes.Cut(s, []byte(close))
	return val, rest, ok && len(val) < 16
}

// cutNumber reads at least one digit followed by end.
func cutNumber(s []byte, end byte) ([]byte, bool) {
	i := 0
	for i < len(s) && i < 20 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != end {
		return nil, false
	}
	return s[i+1:], true
}

// nginxLevels are the names nginx writes (ngx_log.c err_levels), plus "err"
// in case a log shipper rewrites them the way Kong's PDK names them.
var nginxLevels = map[string]bool{
	"stderr": true, "emerg": true, "alert": true, "crit": true, "error": true, "err": true,
	"warn": true, "notice": true, "info": true, "debug": true,
}

// trailerKeys are the fields nginx (ngx_http_log_error_handler) and Kong
// append to a request's error.log line, in that order, plus the timer
// context. A quoted value ends only at a quote followed by one of them, so
// a request line containing `", x: "` cannot end the value early unless it
// spells a real key.
var trailerKeys = []string{"client", "server", "request", "subrequest", "upstream", "host", "referrer", "request_id", "context"}

// parseTrailer reads `, client: a, server: b, request: "GET /p HTTP/1.1",
// host: "h", request_id: "r"` (or `, context: ngx.timer`). It is best
// effort: the values are operator context, never needed to count an event.
func parseTrailer(rest []byte, ev *Event) {
	s := string(rest)
	// Skip an nginx action such as " while logging request".
	start := nextKey(s)
	if start == len(s) {
		return
	}
	s = s[start:]
	// nginx writes each key once; the bound keeps a hostile line linear.
	for n := 0; n < 2*len(trailerKeys) && strings.HasPrefix(s, ", "); n++ {
		s = s[2:]
		c := strings.Index(s, ": ")
		if c <= 0 {
			return
		}
		key := s[:c]
		s = s[c+2:]
		var val string
		if strings.HasPrefix(s, `"`) {
			if end := quotedEnd(s); end < 0 {
				val, s = s[1:], "" // unterminated: nginx cut the line
			} else {
				val, s = s[1:end], s[end+1:]
			}
		} else {
			end := nextKey(s)
			val, s = s[:end], s[end:]
		}
		switch key {
		case "client":
			ev.Client = val
		case "request":
			ev.Method, ev.Path = splitRequestLine(val)
		case "host":
			ev.Host = val
		case "request_id":
			ev.RequestID = val
		}
	}
}

// quotedEnd returns the index of the closing quote of the value that s
// starts with: the first quote followed by the end or by a trailer key; -1
// when there is none.
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i == len(s)-1 || startsWithKey(s[i+1:]) {
			return i
		}
	}
	return -1
}

func startsWithKey(s string) bool {
	if !strings.HasPrefix(s, ", ") {
		return false
	}
	for _, k := range trailerKeys {
		if strings.HasPrefix(s[2:], k) && strings.HasPrefix(s[2+len(k):], ": ") {
			return true
		}
	}
	return false
}

// nextKey returns the index where `, <trailer key>: ` starts in s, or
// len(s), in one pass over s.
func nextKey(s string) int {
	for i := 0; ; {
		j := strings.Index(s[i:], ", ")
		if j < 0 {
			return len(s)
		}
		if startsWithKey(s[i+j:]) {
			return i + j
		}
		i += j + 2
	}
}

// splitRequestLine turns "GET /a/b?apikey=s HTTP/1.1" into ("GET", "/a/b"),
// dropping the query string (it may hold a credential).
func splitRequestLine(r string) (method, path string) {
	method, rest, ok := strings.Cut(r, " ")
	if !ok {
		return "", ""
	}
	if j := strings.LastIndexByte(rest, ' '); j >= 0 && strings.HasPrefix(rest[j+1:], "HTTP/") {
		rest = rest[:j]
	}
	return method, stripQuery(rest)
}

func stripQuery(uri string) string {
	if j := strings.IndexAny(uri, "?#"); j >= 0 {
		return uri[:j]
	}
	return uri
}

// decodeErr classifies a JSON error: both a syntax error and a premature end
// (a truncated line) are ErrMalformed; the offset helps find the damage.
func decodeErr(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated JSON", ErrMalformed)
	case errors.As(err, &se) && strings.HasPrefix(se.Error(), "unexpected end of JSON"):
		return fmt.Errorf("%w: truncated JSON", ErrMalformed)
	case errors.As(err, &se):
		return fmt.Errorf("%w: %v at offset %d", ErrMalformed, se, se.Offset)
	default:
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%w: %v", ErrWrongType, err)
		}
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
}
