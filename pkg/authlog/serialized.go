package authlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

var serializeKeyQuoted = []byte(`"` + SerializeKey + `"`)

// kongEntry holds the few top-level fields of Kong's log serializer
// (kong.log.serialize) that a report needs. They stay raw and are decoded
// one by one, leniently: a Kong version that changes one of them must not
// make us lose the record next to it. Every other field (headers, latencies,
// tries…) is skipped by the decoder without being allocated.
type kongEntry struct {
	Authkit   json.RawMessage `json:"authkit"`
	StartedAt json.RawMessage `json:"started_at"`
	ClientIP  json.RawMessage `json:"client_ip"`
	Route     json.RawMessage `json:"route"`
	Consumer  json.RawMessage `json:"consumer"`
	Request   json.RawMessage `json:"request"`
}

// parseSerialized reads one file-log/http-log entry. Lines that do not
// mention "authkit" are ordinary traffic and are not decoded at all, which
// keeps a mostly-successful access log cheap to scan.
func (p Parser) parseSerialized(line []byte) (Event, Kind, error) {
	if !bytes.Contains(line, serializeKeyQuoted) {
		return Event{}, Other, nil
	}
	var e kongEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return Event{}, SerializedLog, decodeErr(err)
	}
	if len(e.Authkit) == 0 || string(e.Authkit) == "null" {
		return Event{}, Other, nil // "authkit" appeared in some other value
	}
	if e.Authkit[0] != '{' {
		return Event{}, SerializedLog, fmt.Errorf("%w: %q is not an object", ErrWrongType, SerializeKey)
	}
	rec, err := decodeRecord(json.NewDecoder(bytes.NewReader(e.Authkit)))
	if err != nil {
		return Event{}, SerializedLog, err
	}
	ev := Event{Record: rec, Route: rec.RouteID, Consumer: rec.Consumer}

	var started json.Number
	if json.Unmarshal(e.StartedAt, &started) == nil {
		if ms, err := started.Float64(); err == nil && ms > 0 {
			ev.Time = time.UnixMilli(int64(ms))
		}
	}
	var ip any
	_ = json.Unmarshal(e.ClientIP, &ip)
	ev.Client = scalar(ip)

	var route struct{ ID, Name any }
	_ = json.Unmarshal(e.Route, &route)
	if ev.Route == "" {
		ev.Route = scalar(route.ID)
	}
	ev.RouteName = scalar(route.Name)

	if ev.Consumer == "" {
		var c struct{ ID, Username any }
		_ = json.Unmarshal(e.Consumer, &c)
		if ev.Consumer = scalar(c.Username); ev.Consumer == "" {
			ev.Consumer = scalar(c.ID)
		}
	}

	var req struct {
		Method, URI, ID any
		Headers         json.RawMessage
	}
	_ = json.Unmarshal(e.Request, &req)
	ev.Method = scalar(req.Method)
	ev.Path = stripQuery(scalar(req.URI))
	ev.RequestID = scalar(req.ID)
	var h struct{ Host any }
	_ = json.Unmarshal(req.Headers, &h)
	ev.Host = scalar(h.Host)
	return ev, SerializedLog, nil
}

// scalar renders a JSON scalar as text and anything else as "".
func scalar(v any) string {
	s, _ := asString(v)
	return s
}

// asString accepts the scalar shapes a string field can take on its way
// through Kong: a string, a number (Lua has no integer/string distinction
// that survives every path) or a boolean (written as "true"/"false" by
// Serialized, but a raw bool is read the same way).
func asString(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(t), true
	default:
		return "", false
	}
}

// wireRecord is the lenient decoding target of both shapes: every field is
// `any` so a type surprise becomes a precise error (or a conversion) instead
// of a lost line, and decoding into a struct avoids building a map per line.
type wireRecord struct {
	Plugin    any `json:"plugin"`
	Code      any `json:"code"`
	Status    any `json:"status"`
	Detail    any `json:"detail"`
	Cred      any `json:"credential"`
	Consumer  any `json:"consumer"`
	RouteID   any `json:"route_id"`
	PluginID  any `json:"plugin_id"`
	Instance  any `json:"instance_name"`
	Anonymous any `json:"anonymous"`
	Outcome   any `json:"outcome"`
	Count     any `json:"count"`
	Fields    any `json:"fields"`
}

// decodeRecord decodes one JSON object from dec into a Record.
func decodeRecord(dec *json.Decoder) (Record, error) {
	dec.UseNumber()
	var w wireRecord
	if err := dec.Decode(&w); err != nil {
		return Record{}, decodeErr(err)
	}
	return recordFrom(&w)
}

// recordFrom checks and converts a decoded record. Unknown keys were
// ignored by the decoder, so newer plugins stay readable by an older CLI.
func recordFrom(w *wireRecord) (Record, error) {
	var r Record
	if w.Code == nil {
		return r, fmt.Errorf("%w: code", ErrMissingField)
	}
	c, isStr := w.Code.(string)
	if !isStr {
		return r, fmt.Errorf("%w: code is %T, want a string", ErrWrongType, w.Code)
	}
	if c == "" {
		return r, fmt.Errorf("%w: code is empty", ErrMissingField)
	}
	r.Code = c

	if w.Status != nil {
		n, err := asStatus(w.Status)
		if err != nil {
			return r, err
		}
		r.Status = n
	}
	for _, f := range [...]struct {
		key string
		src any
		dst *string
	}{
		{"plugin", w.Plugin, &r.Plugin}, {"detail", w.Detail, &r.Detail}, {"credential", w.Cred, &r.Fingerprint},
		{"consumer", w.Consumer, &r.Consumer}, {"route_id", w.RouteID, &r.RouteID}, {"plugin_id", w.PluginID, &r.PluginID},
		{"instance_name", w.Instance, &r.Instance}, {"anonymous", w.Anonymous, &r.Anonymous},
		{"outcome", w.Outcome, &r.Outcome},
	} {
		s, ok := asString(f.src)
		if !ok {
			return r, fmt.Errorf("%w: %s is %T, want a string", ErrWrongType, f.key, f.src)
		}
		*f.dst = s
	}
	if w.Count != nil {
		n, err := asCount(w.Count)
		if err != nil {
			return r, err
		}
		r.Count = n
	}
	if w.Fields != nil {
		fm, ok := w.Fields.(map[string]any)
		if !ok {
			return r, fmt.Errorf("%w: fields is %T, want an object", ErrWrongType, w.Fields)
		}
		r.Fields = fm
	}
	return r, nil
}

// numberText is the text of a number written as a JSON number or a
// numeric string (the serializer writes either).
func numberText(v any) (string, bool) {
	switch t := v.(type) {
	case json.Number:
		return t.String(), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case string:
		return t, true
	}
	return "", false
}

// asStatus reads an HTTP status written as a number or a numeric string.
func asStatus(v any) (int, error) {
	s, ok := numberText(v)
	if !ok {
		return 0, fmt.Errorf("%w: status is %T, want a number", ErrWrongType, v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) || f < 0 || f > 999 {
		return 0, fmt.Errorf("%w: status %q is not an HTTP status", ErrWrongType, s)
	}
	return int(f), nil
}

// MaxCount bounds a line's count: a hostile line must not overflow a
// report's totals. A real line counts the refusals of one config in one
// interval (10 s), far below it.
const MaxCount = 1 << 40

// asCount reads a record's count (Record.Count): a positive integer,
// written as a number or a numeric string.
func asCount(v any) (int64, error) {
	s, ok := numberText(v)
	if !ok {
		return 0, fmt.Errorf("%w: count is %T, want a number", ErrWrongType, v)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > MaxCount {
		return 0, fmt.Errorf("%w: count %q is not a positive integer up to %d", ErrWrongType, s, int64(MaxCount))
	}
	return n, nil
}
