// Package errcode is the single catalog of the structured error codes that
// every kong-authkit plugin uses to refuse a request or to explain an OAuth
// provider's answer. Each code knows the HTTP status the client sees, the
// RFC 6750 §3.1 error value (if any), a fixed client message and an operator
// hint (likely cause and fix). Nothing else in the suite invents codes.
package errcode

import "sort"

// Code is a stable, machine-readable reason. Codes are part of the public
// interface: they appear in client bodies, WWW-Authenticate, Kong's logs and
// file-log/http-log entries. Never rename one.
type Code string

// Class groups codes by who has to act; it picks the default log level.
type Class string

const (
	// ClassClient: the caller sent missing, malformed or invalid credentials.
	ClassClient Class = "client"
	// ClassProvider: the OAuth provider failed or answered something invalid.
	ClassProvider Class = "provider"
	// ClassGateway: the gateway itself is misconfigured or hit a bug.
	ClassGateway Class = "gateway"
)

// Entry describes one code.
type Entry struct {
	Code Code
	// Status is the HTTP status of the refusal. For token-endpoint
	// explanations it is the status the provider typically answers with.
	Status int
	// BearerError is the RFC 6750 §3.1 (or RFC 6749 §5.2) error value, or ""
	// when the challenge must not carry one.
	BearerError string
	// Message is the fixed text a client sees. It never contains request data.
	Message string
	// Cause says what usually leads to this code.
	Cause string
	// Hint tells the operator how to fix it.
	Hint string
	// Class picks the default log level (client refusals at notice,
	// provider/gateway failures at err).
	Class Class
	// Spec cites the rule the code comes from, where one does.
	Spec string
}

// LogLevel is the default Kong log level for refusals with this code.
func (e Entry) LogLevel() string {
	if e.Class == ClassClient {
		return "notice"
	}
	return "err"
}

// Lookup returns the catalog entry of c. An unknown code yields the
// INTERNAL_ERROR entry and false: a bug must still fail closed.
func Lookup(c Code) (Entry, bool) {
	e, ok := catalog[c]
	if !ok {
		return catalog[InternalError], false
	}
	return e, true
}

// All returns every entry, sorted by code.
func All() []Entry {
	out := make([]Entry, 0, len(catalog))
	for _, e := range catalog {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Status is a shorthand for the HTTP status of c.
func (c Code) Status() int { e, _ := Lookup(c); return e.Status }

// Entry is a shorthand for Lookup(c) that ignores the found flag.
func (c Code) Entry() Entry { e, _ := Lookup(c); return e }
