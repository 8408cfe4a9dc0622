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
	// a laptop needs time.UTC here. Nil means time.Local.
	Location *time.Location
}

// ParseLine reads one line with the zero Parser. See Parser.Parse.
func ParseLine(line []byte) (Event, Kind, error) {
	return Parser{}.Parse(line)
}

// Parse classifies one log line (without its newline) and, for an authkit
// line, returns the event. A line that is neither shape is (Event{}, Other,
// nil); an error is returned only with ErrorLog or SerializedLog, for a line
// that is ours but broken. Parse never panics and does not retain line.
func (p Parser) Parse(line []byte) (Event, Kind, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Event{}, Other, nil
	}
	if line[0] == '{' {
		return p.parseSerialized(line)
	}
	return p.parseErrorLog(line)
}

var (
	marker       = []byte(Prefix + "{")
	clientMarker = []byte(", client: ")
)

// findMarker returns the offset of the `authkit {` that starts our message,
// or -1. The marker must start a word, and nothing before it may look like
// nginx's request trailer: a client can put almost anything into a request
// line, and text there must not be mistaken for a record.
func findMarker(line []byte) int {
	limit := len(line)
	if c := bytes.Index(line, clientMarker); c >= 0 {
		limit = c + len(clientMarker) // a marker after this is inside the trailer
	}
	for from := 0; ; {
		i := bytes.Index(line[from:], marker)
		if i < 0 {
			return -1
		}
		i += from
		if i >= limit {
			return -1
		}
		if i == 0 || line[i-1] == ' ' {
			return i
		}
		from = i + 1
	}
}

// parseErrorLog reads Kong's error.log shape:
//
//	2026/11/27 10:00:00 [notice] 1234#0: *55 [kong] pb_rpc.lua:233 authkit {…}, client: …, request: "GET /x HTTP/1.1", host: "…", request_id: "…"
//
// It depends on neither the pb_rpc.lua line number (it differs across Kong
// versions) nor anything between the level and the marker, so the Go
// process's own format (`[authkit-basic:278] 2026/11/27 10:00:00 authkit {…}`,
// kong-go-plugins.md §4.1) reads the same way.
func (p Parser) parseErrorLog(line []byte) (Event, Kind, error) {
	i := findMarker(line)
	if i < 0 {
		return Event{}, Other, nil
	}
	var ev Event
	p.parseHead(line[:i], &ev)

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

// parseHead takes the timestamp and the bracketed level from the text before
// the marker. Both are optional: a line without them is still a record.
func (p Parser) parseHead(head []byte, ev *Event) {
	if len(head) >= len(nginxTime) {
		loc := p.Location
		if loc == nil {
			loc = time.Local
		}
		if t, err := time.ParseInLocation(nginxTime, string(head[:len(nginxTime)]), loc); err == nil {
			ev.Time = t
			head = head[len(nginxTime):]
		}
	}
	if ev.Time.IsZero() {
		return // no nginx header: a bare Go log line has no level
	}
	head = bytes.TrimLeft(head, " ")
	if len(head) > 2 && head[0] == '[' {
		if j := bytes.IndexByte(head, ']'); j > 0 && nginxLevels[string(head[1:j])] {
			ev.Level = string(head[1:j])
		}
	}
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
