package errcode

import (
	"errors"
	"fmt"
)

// Error is a refusal carrying a code, an operator detail and structured
// fields for the log line (expected vs received values). Detail and Fields
// are for operators only: the client sees the catalog's fixed message.
type Error struct {
	Code   Code
	Detail string
	// Fields are extra log fields (e.g. "expected_iss", "kid"). Never put a
	// secret here: fingerprints only.
	Fields map[string]any
	// Headers are extra response headers for the client (e.g. Retry-After).
	Headers map[string]string
	// Err is the underlying cause, if any.
	Err error
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

// With adds a structured log field and returns e.
func (e *Error) With(key string, value any) *Error {
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[key] = value
	return e
}

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
// INTERNAL_ERROR, so nothing unclassified ever lets a request through.
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
