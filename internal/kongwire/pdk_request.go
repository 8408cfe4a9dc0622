package kongwire

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// kong.request.
func init() {
	// kong.request
	addP("kong.request.get_scheme", nil, true, str(func(e *event) string { return e.req.Scheme }))
	addP("kong.request.get_host", nil, true, str(func(e *event) string { return e.req.Host }))
	addP("kong.request.get_port", nil, true, intv(func(e *event) int { return e.req.Port }))
	addP("kong.request.get_forwarded_scheme", nil, true, str(func(e *event) string { return e.req.Scheme }))
	addP("kong.request.get_forwarded_host", nil, true, str(func(e *event) string { return e.req.Host }))
	addP("kong.request.get_forwarded_port", nil, true, intv(func(e *event) int { return e.req.Port }))
	addP("kong.request.get_http_version", nil, true, func(e *event, _ []byte) (proto.Message, error) { return &kpp.Number{V: 1.1}, nil })
	addP("kong.request.get_method", nil, true, str(func(e *event) string { return e.req.Method }))
	addP("kong.request.get_path", nil, true, str(func(e *event) string { return e.req.Path }))
	addP("kong.request.get_path_with_query", nil, true, str(func(e *event) string {
		if e.req.RawQuery == "" {
			return e.req.Path
		}
		return e.req.Path + "?" + e.req.RawQuery
	}))
	addP("kong.request.get_raw_query", nil, true, str(func(e *event) string { return e.req.RawQuery }))
	addP("kong.request.get_query_arg", nil, true, func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		for _, kv := range parseQuery(e.req.RawQuery) {
			if kv.k == k.V {
				if s, ok := kv.v.(string); ok {
					return &kpp.String{V: s}, nil
				}
				return &kpp.String{}, nil
			}
		}
		return &kpp.String{}, nil
	})
	addP("kong.request.get_query", nil, true, func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_args")
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for i, kv := range parseQuery(e.req.RawQuery) {
			if i >= max {
				break
			}
			addMulti(out, kv.k, kv.v)
		}
		return structFromLua(out), nil
	})
	add("kong.request.get_header", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: headerGet(e.req.Headers, k.V)}, nil
	})
	add("kong.request.get_headers", func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_headers")
		if err != nil {
			return nil, err
		}
		return headersStruct(e.req.Headers, max), nil
	})
	addP("kong.request.get_raw_body", phasesBeforeLog, false, func(e *event, _ []byte) (proto.Message, error) {
		return e.rawBody() // body.go: a large body is spooled to a file, as nginx does
	})
	add("kong.request.get_uri_captures", func(e *event, _ []byte) (proto.Message, error) { return &kpp.UriCapturesResult{}, nil })
}

// headerGet is kong.request.get_header: case-insensitive, '_' matches '-',
// first value, "" when missing (Lua nil → empty String).
func headerGet(h http.Header, name string) string {
	name = strings.ReplaceAll(name, "_", "-")
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// headersStruct is get_headers(max): lower-cased names, a string for one
// value, a list for several, at most max header lines.
func headersStruct(h http.Header, max int) *structpb.Struct {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]any{}
	n := 0
	for _, k := range keys {
		for _, v := range h[k] {
			if n >= max {
				break
			}
			addMulti(out, strings.ToLower(k), v)
			n++
		}
	}
	return structFromLua(out)
}

func addMulti(m map[string]any, k string, v any) {
	switch old := m[k].(type) {
	case nil:
		m[k] = v
	case []any:
		m[k] = append(old, v)
	default:
		m[k] = []any{old, v}
	}
}

type queryKV struct {
	k string
	v any // string, or true for an arg without '='
}

// parseQuery parses a raw query like ngx.req.get_uri_args.
func parseQuery(raw string) []queryKV {
	var out []queryKV
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		if k == "" {
			continue
		}
		if !hasEq {
			out = append(out, queryKV{k, true})
			continue
		}
		v, _ = url.QueryUnescape(v)
		out = append(out, queryKV{k, v})
	}
	return out
}

// encodeQuery is ngx.encode_args as used by set_query: keys sorted, values
// in order, true → bare key, spaces as %20.
func encodeQuery(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var parts []string
	emit := func(k string, v any) {
		switch x := v.(type) {
		case bool:
			if x {
				parts = append(parts, esc(k))
			}
		case nil:
		default:
			parts = append(parts, esc(k)+"="+esc(luaToString(x)))
		}
	}
	for _, k := range keys {
		if list, ok := m[k].([]any); ok {
			for _, v := range list {
				emit(k, v)
			}
		} else {
			emit(k, m[k])
		}
	}
	return strings.Join(parts, "&")
}
