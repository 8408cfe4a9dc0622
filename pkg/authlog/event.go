package authlog

import (
	"errors"
	"time"
)

// Kind says which of the two log shapes a line was read as. The CLI counts
// each kind separately: a file-log line without our key is ordinary traffic,
// not a parse failure, and must not be reported as one.
type Kind int

const (
	// Other is a line that carries no authkit record: ordinary Kong
	// error.log output, a file-log entry of an accepted request, a blank line.
	Other Kind = iota
	// ErrorLog is a Kong error.log line carrying `authkit {…}` (Record.Line).
	ErrorLog
	// SerializedLog is a file-log/http-log JSON entry carrying the record
	// under the top-level key "authkit" (Record.Serialized).
	SerializedLog
	// Foreign is a line that mentions `authkit {` but is not in a shape the
	// plugins write: nginx quoting a client's header, another plugin
	// quoting a user, a request line. Such text can be chosen by a client,
	// so it is never counted as an event; it is counted apart.
	Foreign
)

func (k Kind) String() string {
	switch k {
	case ErrorLog:
		return "error.log"
	case SerializedLog:
		return "file-log"
	case Foreign:
		return "foreign"
	default:
		return "other"
	}
}

// Event is one authkit record read back from a log, with the request context
// the log format provides around it. Fields a format does not carry are
// empty: error.log has no route name or consumer object, file-log has no
// log level.
type Event struct {
	// Time is when Kong wrote the line (error.log: a collector's RFC 3339
	// time when the line has one, else nginx's, in the parser's location,
	// else a syslog stamp's) or started the request (file-log started_at).
	// Zero when no time on the line could be read.
	Time time.Time
	// Level is the nginx level as written ("notice", "error", "warn"…);
	// empty for file-log entries.
	Level  string
	Record Record
	// Client is the client address: nginx's `client:` or file-log client_ip.
	Client string
	// Route is the route id (the record's route_id, else file-log route.id),
	// so error.log and file-log events of one route group together.
	Route string
	// RouteName is the route's name where the format carries it (file-log).
	RouteName string
	// Consumer is the record's consumer, else the file-log consumer's
	// username, else its id.
	Consumer string
	Method   string
	// Path is the request path without the query string: an API key or
	// token sent as a query parameter must never be echoed in a report.
	Path      string
	Host      string
	RequestID string
}

// Errors returned by ParseLine wrap one of these. They only occur for lines
// that are recognisably ours (an `authkit {` marker, or a JSON entry naming
// "authkit") but cannot be read, so an operator can tell "nothing to see"
// from "the evidence is damaged".
var (
	// ErrMalformed: the JSON is invalid or truncated (nginx cuts error.log
	// messages at about 2 KiB, which truncates large records).
	ErrMalformed = errors.New("authlog: malformed authkit record")
	// ErrMissingField: a field every record has (the code) is absent.
	ErrMissingField = errors.New("authlog: authkit record lacks a required field")
	// ErrWrongType: a field has a JSON type no version of the plugins writes.
	ErrWrongType = errors.New("authlog: authkit record field has the wrong type")
	// ErrLineTooLong: the line exceeds the reader's limit and was skipped
	// unread (reported by LineReader, never by ParseLine).
	ErrLineTooLong = errors.New("authlog: line too long")
)
