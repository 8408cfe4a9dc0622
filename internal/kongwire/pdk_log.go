package kongwire

import (
	"encoding/json"
	"fmt"
	"strings"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// kong.log.
func init() {
	// kong.log
	for _, lvl := range []string{"alert", "crit", "err", "warn", "notice", "info", "debug"} {
		add("kong.log."+lvl, func(e *event, args []byte) (proto.Message, error) {
			var l structpb.ListValue
			if err := decode(args, &l); err != nil {
				return nil, err
			}
			var b strings.Builder
			for _, v := range l.Values {
				b.WriteString(luaToString(luaFromValue(v)))
			}
			e.res.Logs = append(e.res.Logs, LogLine{Level: lvl, Message: b.String()})
			return nil, nil
		})
	}
	add("kong.log.set_serialize_value", func(e *event, args []byte) (proto.Message, error) {
		var kv kpp.KV
		if err := decode(args, &kv); err != nil {
			return nil, err
		}
		if kv.K == "" {
			return nil, &luaError{"key must be a string"}
		}
		setDotted(e.rc.serialize, kv.K, luaFromValue(kv.V))
		return nil, nil
	})
	addP("kong.log.serialize", []string{"log"}, false, func(e *event, _ []byte) (proto.Message, error) {
		return &kpp.String{V: e.serialize()}, nil
	})
}

// setDotted applies kong.log.set_serialize_value: dots create nested
// tables; nil deletes.
func setDotted(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			if v == nil {
				return
			}
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	last := parts[len(parts)-1]
	if v == nil {
		delete(m, last)
	} else {
		m[last] = v
	}
}

// serialize is a reduced kong.log.serialize() with the serialize values
// applied at the root.
func (e *event) serialize() string {
	hdr := map[string]any{}
	for k, v := range e.req.Headers {
		hdr[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	m := map[string]any{
		"client_ip": e.req.ClientIP,
		"request": map[string]any{
			"method": e.req.Method, "uri": e.req.Path, "headers": hdr,
			"url": fmt.Sprintf("%s://%s:%d%s", e.req.Scheme, e.req.Host, e.req.Port, e.req.Path),
		},
		"response": map[string]any{"status": e.status},
		"route":    map[string]any{"id": e.inst.RouteID},
	}
	if e.rc.authCons != nil {
		m["consumer"] = map[string]any{"id": e.rc.authCons.ID, "username": e.rc.authCons.Username}
	}
	for k, v := range e.rc.serialize {
		m[k] = deepCopy(v)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
