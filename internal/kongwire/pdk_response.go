package kongwire

import (
	"net/http"
	"net/textproto"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// kong.response.
func init() {
	// kong.response
	add("kong.response.get_status", intv(func(e *event) int { return e.status }))
	add("kong.response.get_header", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: headerGet(e.headers, k.V)}, nil
	})
	add("kong.response.get_headers", func(e *event, args []byte) (proto.Message, error) {
		max, err := maxArg(args, "max_headers")
		if err != nil {
			return nil, err
		}
		return headersStruct(e.headers, max), nil
	})
	add("kong.response.get_source", str(func(e *event) string {
		if e.phase == "response" || e.phase == "log" {
			return "service"
		}
		return "error"
	}))
	addP("kong.response.set_status", phasesBeforeLog, false, func(e *event, args []byte) (proto.Message, error) {
		var n kpp.Int
		if err := decode(args, &n); err != nil {
			return nil, err
		}
		if n.V < 100 || n.V > 599 {
			return nil, &luaError{"code must be a number between 100 and 599"}
		}
		e.status = int(n.V)
		return nil, nil
	})
	addP("kong.response.set_header", phasesBeforeLog, false, headerKV(func(e *event) http.Header { return e.headers }, false))
	addP("kong.response.add_header", phasesBeforeLog, false, headerKV(func(e *event) http.Header { return e.headers }, true))
	addP("kong.response.clear_header", phasesBeforeLog, false, clearHeader(func(e *event) http.Header { return e.headers }))
	addP("kong.response.set_headers", phasesBeforeLog, false, setHeaders(func(e *event) http.Header { return e.headers }))
	addP("kong.response.exit", phasesBeforeLog, false, func(e *event, args []byte) (proto.Message, error) {
		var x kpp.ExitArgs
		if err := decode(args, &x); err != nil {
			return nil, err
		}
		if x.Status < 100 || x.Status > 599 {
			return nil, &luaError{"code must be a number between 100 and 599"}
		}
		h := e.headers.Clone()
		for k, v := range x.Headers.GetFields() {
			vals := headerValues(luaFromValue(v))
			ck := textproto.CanonicalMIMEHeaderKey(k)
			switch {
			case len(vals) == 0:
				delete(h, ck)
			case ck == "Www-Authenticate" && len(vals) > 1:
				// Kong 3.9.3 sent only the last of several WWW-Authenticate
				// values given to exit (e2e TestSenderConstrained; see
				// docs/kong-behaviour.md): one header line per challenge
				// does not survive, several challenges must share one value.
				h[ck] = vals[len(vals)-1:]
			default:
				h[ck] = vals
			}
		}
		e.res.Exited = true
		e.res.Status = int(x.Status)
		e.res.Body = x.Body
		e.res.Headers = h
		return nil, errExit
	})
}
