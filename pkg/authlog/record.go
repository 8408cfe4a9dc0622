// Package authlog defines the one log record every kong-authkit refusal
// produces, how it is written into Kong's error.log (`authkit {…}`) and into
// file-log/http-log entries (the `authkit` serialize value), and how the CLI
// reads both back.
package authlog

import (
	"encoding/json"
	"sort"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Prefix starts every authkit line in Kong's error.log. Kong's log lines
// from Go plugins carry no plugin name (kong-go-plugins.md §4.2), so the
// prefix is how operators and `authkit logs` find them.
const Prefix = "authkit "

// SerializeKey is the kong.log.set_serialize_value key: file-log and
// http-log entries carry the record under this top-level key.
const SerializeKey = "authkit"

// Record is one refusal (or explanation) as written to the logs. It never
// contains a secret: credentials appear only as Fingerprint.
type Record struct {
	Plugin      string `json:"plugin"`
	Code        string `json:"code"`
	Status      int    `json:"status"`
	Detail      string `json:"detail,omitempty"`
	Fingerprint string `json:"credential,omitempty"`
	Consumer    string `json:"consumer,omitempty"`
	RouteID     string `json:"route_id,omitempty"`
	PluginID    string `json:"plugin_id,omitempty"`
	Instance    string `json:"instance_name,omitempty"`
	// Outcome is "accepted" (errcode.OutcomeAccepted) for a warning about a
	// request that was let through (e.g. served from stale keys); empty for
	// refusals and anonymous fallbacks. Decision derives the full outcome.
	Outcome string `json:"outcome,omitempty"`
	// Anonymous is "true" when the failure fell back to the anonymous
	// consumer instead of being refused (a string: a Go false would reach
	// Kong as nil, kong-go-plugins.md §3.7).
	Anonymous string `json:"anonymous,omitempty"`
	// Count is how many refusals an error.log line stands for: a config
	// that does not compile logs its refusals once per interval (10 s),
	// counting the requests it refused since its previous line, this
	// one included. Absent (0) means 1: every other line, and every
	// serialize value, is one request.
	Count int64 `json:"count,omitempty"`
	// Fields carries structured detail such as expected vs received values.
	Fields map[string]any `json:"fields,omitempty"`
}

// Decision is the record's outcome in the catalog's vocabulary, the one
// the metrics' outcome label uses: accepted for a warning about an accepted
// request, anonymous for a fallback to the anonymous consumer, refused
// otherwise (records written before outcomes existed included).
func (r *Record) Decision() errcode.Outcome {
	switch {
	case r.Outcome == string(errcode.OutcomeAccepted):
		return errcode.OutcomeAccepted
	case r.Anonymous == "true":
		return errcode.OutcomeAnonymous
	}
	return errcode.OutcomeRefused
}

// Line renders the error.log message: the prefix and one JSON object.
func (r *Record) Line() string {
	b, err := json.Marshal(r)
	if err != nil { // only possible with an unmarshalable field value
		r2 := *r
		r2.Fields = nil
		b, _ = json.Marshal(&r2)
	}
	return Prefix + string(b)
}

// Serialized returns the value for kong.log.set_serialize_value: the same
// record as a map with every boolean turned into a string, because a Go
// false reaches Kong's Lua as nil and would silently vanish.
func (r *Record) Serialized() map[string]any {
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return stringifyBools(m).(map[string]any)
}

func stringifyBools(v any) any {
	switch t := v.(type) {
	case bool:
		if t {
			return "true"
		}
		return "false"
	case map[string]any:
		for k, x := range t {
			t[k] = stringifyBools(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = stringifyBools(x)
		}
		return t
	default:
		return v
	}
}

// Events is how many events the record stands for: Count, or 1.
func (r *Record) Events() int64 {
	if r.Count > 1 {
		return r.Count
	}
	return 1
}

// FieldNames lists the keys of Fields, sorted (for stable output).
func (r *Record) FieldNames() []string {
	out := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
