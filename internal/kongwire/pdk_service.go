package kongwire

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// kong.router, kong.service, kong.service.request and
// kong.service.response.
func init() {
	// kong.router
	add("kong.router.get_route", func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.Route{
			Id: e.inst.RouteID, Name: "kongwire-route", Protocols: []string{"http", "https"},
			Paths: []string{"/"}, StripPath: true, HttpsRedirectStatusCode: 426,
			Service: &kpp.ServiceKey{Id: serviceID(e.inst)},
		}, nil
	})
	add("kong.router.get_service", func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.Service{
			Id: serviceID(e.inst), Name: "kongwire-service", Protocol: "http", Host: "upstream.test",
			Port: 80, Path: "/", Retries: 5, ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000,
		}, nil
	})

	// kong.service
	addP("kong.service.set_upstream", phasesRewriteAccess, false, func(e *event, _ []byte) (proto.Message, error) { return &kpp.Bool{V: true}, nil })
	addP("kong.service.set_target", phasesRewriteAccess, false, func(e *event, _ []byte) (proto.Message, error) { return nil, nil })
	strSetter := func(set func(e *event, v string)) func(*event, []byte) (proto.Message, error) {
		return func(e *event, args []byte) (proto.Message, error) {
			var s kpp.String
			if err := decode(args, &s); err != nil {
				return nil, err
			}
			set(e, s.V)
			return nil, nil
		}
	}
	addP("kong.service.request.set_scheme", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upScheme = v }))
	addP("kong.service.request.set_path", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upPath = v }))
	addP("kong.service.request.set_raw_query", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upQuery = v }))
	addP("kong.service.request.set_method", phasesRewriteAccess, false, strSetter(func(e *event, v string) { e.upMethod = v }))
	addP("kong.service.request.set_query", phasesRewriteAccess, false, func(e *event, args []byte) (proto.Message, error) {
		var st structpb.Struct
		if err := decode(args, &st); err != nil {
			return nil, err
		}
		e.upQuery = encodeQuery(luaFromStruct(&st))
		return nil, nil
	})
	addP("kong.service.request.set_header", phasesRewriteAccess, false, escapingCTL(headerKV(func(e *event) http.Header { return e.upHeaders }, false)))
	addP("kong.service.request.add_header", phasesRewriteAccess, false, escapingCTL(headerKV(func(e *event) http.Header { return e.upHeaders }, true)))
	addP("kong.service.request.clear_header", phasesRewriteAccess, false, clearHeader(func(e *event) http.Header { return e.upHeaders }))
	addP("kong.service.request.set_headers", phasesRewriteAccess, false, escapingCTL(setHeaders(func(e *event) http.Header { return e.upHeaders })))
	addP("kong.service.request.set_raw_body", phasesRewriteAccess, false, func(e *event, args []byte) (proto.Message, error) {
		var b kpp.ByteString
		if err := decode(args, &b); err != nil {
			return nil, err
		}
		e.upBody = append([]byte{}, b.V...)
		e.upHeaders.Set("Content-Length", strconv.Itoa(len(b.V)))
		return nil, nil
	})

	// kong.service.response
	upstream := func(e *event) *Upstream {
		if e.up == nil {
			return &Upstream{}
		}
		return e.up
	}
	addP("kong.service.response.get_status", phasesAfterProxy, false, intv(func(e *event) int { return upstream(e).Status }))
	addP("kong.service.response.get_header", phasesAfterProxy, false, func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: headerGet(upstream(e).Headers, k.V)}, nil
	})
	addP("kong.service.response.get_headers", phasesAfterProxy, false, func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_headers")
		if err != nil {
			return nil, err
		}
		if e.buffered() {
			// With buffered proxying (any plugin with a Response handler)
			// Kong returns an empty table whose __index metamethod looks
			// names up (kong/pdk/service/response.lua:79-115,
			// attach_buffered_headers_mt), and pb_rpc's structpb_struct
			// encodes it with pairs(): the plugin gets an empty map.
			// Observed in Kong 3.9.3; get_header(name) still works.
			return &structpb.Struct{Fields: map[string]*structpb.Value{}}, nil
		}
		return headersStruct(upstream(e).Headers, max), nil
	})
	addP("kong.service.response.get_raw_body", []string{"response"}, false, func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.ByteString{V: append([]byte{}, upstream(e).Body...)}, nil
	})

}

// escapingCTL models what ngx.req.set_header does with control characters
// in a request header value (seen in Kong 3.9.3, OpenResty 1.25.3.2): it
// neither refuses nor drops them but percent-escapes them, so the upstream
// gets "a%0D%0AX-Evil: 1" for "a\r\nX-Evil: 1" (HTAB is kept). Only the
// headers the call set are escaped; what the client sent is forwarded as is.
func escapingCTL(fn func(*event, []byte) (proto.Message, error)) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		before := e.upHeaders.Clone()
		m, err := fn(e, args)
		for k, vals := range e.upHeaders {
			if slices.Equal(vals, before[k]) {
				continue
			}
			for i, v := range vals {
				vals[i] = escapeCTL(v)
			}
		}
		return m, err
	}
}

func escapeCTL(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func headerKV(target func(*event) http.Header, add bool) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if kv.K == "" {
			return nil, &luaError{"invalid header name \"\": got string, expected non-empty string"}
		}
		v := luaFromValue(kv.V)
		if v == nil {
			return nil, &luaError{fmt.Sprintf("invalid header value for %q: got nil, expected array of string, string, number or boolean", kv.K)}
		}
		h := target(e)
		vals := headerValues(v)
		ck := textproto.CanonicalMIMEHeaderKey(kv.K)
		switch {
		case add:
			h[ck] = append(h[ck], vals...)
		case len(vals) == 0:
			delete(h, ck) // set_header(name, {}): ngx removes the header
		default:
			h[ck] = vals
		}
		return nil, nil
	}
}

func clearHeader(target func(*event) http.Header) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		target(e).Del(k.V)
		return nil, nil
	}
}

// setHeaders: a Struct of string or list values; an empty list removes the
// header, an empty string sets it to " " (headerValues).
func setHeaders(target func(*event) http.Header) func(*event, []byte) (proto.Message, error) {
	return func(e *event, args []byte) (proto.Message, error) {
		var st structpb.Struct
		if err := decode(args, &st); err != nil {
			return nil, err
		}
		h := target(e)
		for k, v := range st.Fields {
			vals := headerValues(luaFromValue(v))
			ck := textproto.CanonicalMIMEHeaderKey(k)
			if len(vals) == 0 {
				delete(h, ck)
			} else {
				h[ck] = vals
			}
		}
		return nil, nil
	}
}

// headerValues is a header value after Kong's normalize_multi_header
// (kong/pdk/private/checks.lua:13-30), which every kong.service.request.*
// and kong.response.* header setter applies: an empty string becomes " ",
// so setting "" never removes a header, the upstream gets it present and
// empty (observed in Kong 3.9.3). An empty list (an empty Lua table, which
// may arrive as a struct) yields no values: ngx.req.set_header(name, {})
// and ngx.header[name] = {} remove the header.
func headerValues(v any) []string {
	one := func(s string) string {
		if s == "" {
			return " "
		}
		return s
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, y := range x {
			if y != nil {
				out = append(out, one(luaToString(y)))
			}
		}
		return out
	case map[string]any:
		return nil // an empty Lua table (empty list) arrives as a struct
	case string:
		return []string{one(x)}
	default:
		return []string{luaToString(x)}
	}
}
