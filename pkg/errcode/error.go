package errcode

import (
	"errors"
	"fmt"
	"iter"
	"maps"
)

// Error is a refusal carrying a code, an operator detail and structured
// fields for the log line (expected vs received values). Detail and the
// fields are for operators only: the client sees the catalog's fixed message.
//
// An *Error is immutable once it has been returned. The same value is handed
// to many goroutines: singleflight gives every waiting caller the one error
// of a shared provider call, and key sets and discovery keep their last
// fetch error for every later request. A write into a shared map is a
// `fatal error: concurrent map writes` that recover() cannot catch, and it
// kills the plugin process with every request in flight on it. So the maps
// are unexported, and With and WithHeader return a modified copy, never
// touching the receiver (as fosite's RFC6749Error.WithHint does).
type Error struct {
	Code   Code
	Detail string
	// Err is the underlying cause, if any.
	Err error

	// fields are extra log fields (e.g. "expected_iss", "kid"). Never a
	// secret: fingerprints only.
	fields map[string]any
	// headers are extra response headers for the client (e.g. Retry-After).
	headers map[string]string
}

// New returns an Error with a formatted operator detail.
func New(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error whose detail is err's text.
func Wrap(c Code, err error) *Error {
	if err == nil {
		return &Error{Code: c}
	}
	return &Error{Code: c, Detail: err.Error(), Err: err}
}

// Wrapf returns an Error with a formatted detail of its own whose cause,
// reachable through errors.Is and errors.As, is err.
func Wrapf(c Code, err error, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...), Err: err}
}

// With returns a copy of e with one more log field. e itself is unchanged,
// so a shared error can be decorated by each of its receivers.
func (e *Error) With(key string, value any) *Error {
	cp := *e
	cp.fields = make(map[string]any, len(e.fields)+1)
	maps.Copy(cp.fields, e.fields)
	cp.fields[key] = value
	return &cp
}

// WithHeader returns a copy of e with one more client response header.
func (e *Error) WithHeader(name, value string) *Error {
	cp := *e
	cp.headers = make(map[string]string, len(e.headers)+1)
	maps.Copy(cp.headers, e.headers)
	cp.headers[name] = value
	return &cp
}

// Field returns the log field key, or nil.
func (e *Error) Field(key string) any { return e.fields[key] }

// Fields yields every log field, in no particular order.
func (e *Error) Fields() iter.Seq2[string, any] { return maps.All(e.fields) }

// Headers yields the extra client response headers.
func (e *Error) Headers() iter.Seq2[string, string] { return maps.All(e.headers) }

func (e *Error) Error() string {
	if e.Detail == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, errcode.TokenExpired) work: a Code is an error.
func (e *Error) Is(target error) bool {
	if c, ok := target.(Code); ok {
		return e.Code == c
	}
	return false
}

// Error lets a bare Code be used as a sentinel with errors.Is.
func (c Code) Error() string { return string(c) }

// From extracts the catalog error from err. An error without a code becomes
// INTERNAL_ERROR, so nothing unclassified ever lets a request through. The
// result may be shared with other goroutines: decorate it only through With.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var c Code
	if errors.As(err, &c) {
		return &Error{Code: c}
	}
	return &Error{Code: InternalError, Detail: err.Error(), Err: err}
}
