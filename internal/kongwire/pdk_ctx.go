package kongwire

import (
	"strconv"
	"strings"
	"time"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// kong.ctx.shared and kong.nginx (ngx.ctx, ngx.var).
func init() {
	// kong.ctx.shared
	add("kong.ctx.shared.set", func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if v := luaFromValue(kv.V); v != nil {
			e.rc.shared[kv.K] = v
		} else {
			delete(e.rc.shared, kv.K)
		}
		return nil, nil
	})
	add("kong.ctx.shared.get", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return valueFromLua(e.rc.shared[k.V]), nil
	})

	// kong.nginx
	addP("kong.nginx.get_var", nil, true, func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return &kpp.String{V: e.ngxVar(k.V)}, nil
	})
	add("kong.nginx.get_tls1_version_str", str(func(e *event) string {
		if e.req.Scheme == "https" {
			return "TLSv1.3"
		}
		return ""
	}))
	add("kong.nginx.get_subsystem", str(func(e *event) string { return "http" }))
	add("kong.nginx.req_start_time", func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.Number{V: float64(time.Now().UnixMilli()) / 1000}, nil
	})
	add("kong.nginx.set_ctx", func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if v := luaFromValue(kv.V); v != nil {
			e.rc.shared["\x00ngx."+kv.K] = v
		} else {
			delete(e.rc.shared, "\x00ngx."+kv.K)
		}
		return nil, nil
	})
	add("kong.nginx.get_ctx", func(e *event, args []byte) (proto.Message, error) {
		var k kpp.String
		if err := decode(args, &k); err != nil {
			return nil, err
		}
		return valueFromLua(e.rc.shared["\x00ngx."+k.V]), nil
	})
}

// ngxVar serves a few common ngx.var names.
func (e *event) ngxVar(name string) string {
	switch name {
	case "remote_addr", "realip_remote_addr", "binary_remote_addr":
		return e.req.ClientIP
	case "host", "server_name":
		return e.req.Host
	case "scheme":
		return e.req.Scheme
	case "request_method":
		return e.req.Method
	case "uri":
		return e.req.Path
	case "args", "query_string":
		return e.req.RawQuery
	case "request_uri":
		if e.req.RawQuery == "" {
			return e.req.Path
		}
		return e.req.Path + "?" + e.req.RawQuery
	case "server_port":
		return strconv.Itoa(e.req.Port)
	case "request_id", "kong_request_id":
		return strings.ReplaceAll(e.inst.PluginID, "-", "")
	}
	if h, ok := strings.CutPrefix(name, "http_"); ok {
		return headerGet(e.req.Headers, h)
	}
	return ""
}
