package kongwire

// The PDK calls kongwire serves, one file per Kong API area (pdk_*.go),
// each registering its methods in an init: this file holds the registry
// and the helpers they share.

import (
	"fmt"
	"strconv"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// pdkMethod is one entry of Kong's rpc_service table (pb_rpc.lua
// load_service): the Lua function behind a method name of the proto
// `service Kong` (kong-go-plugins.md §3.6).
type pdkMethod struct {
	// phases lists where Kong's check_phase allows the call; nil = any phase.
	phases []string
	// noLog marks calls that read ngx.var/ngx.req, which fail in the log
	// phase because it runs in a timer (§3.5).
	noLog bool
	fn    func(e *event, args []byte) (proto.Message, error)
}

var (
	phasesRewriteAccess = []string{"rewrite", "access"}
	phasesBeforeLog     = []string{"rewrite", "access", "response"}
	phasesAfterProxy    = []string{"response", "log"}
)

// pdkMethods is Kong's rpc_service table as kongwire serves it; each
// pdk_*.go file registers its area's methods.
var pdkMethods = map[string]pdkMethod{}

type pdkFunc = func(*event, []byte) (proto.Message, error)

// add registers a call allowed in every phase.
func add(name string, fn pdkFunc) { pdkMethods[name] = pdkMethod{fn: fn} }

// addP registers a call restricted to phases (nil: any), and failing in
// the log phase when noLog.
func addP(name string, phases []string, noLog bool, fn pdkFunc) {
	pdkMethods[name] = pdkMethod{phases: phases, noLog: noLog, fn: fn}
}

// str and intv adapt a getter to a call answering a String or an Int.
func str(f func(e *event) string) pdkFunc {
	return func(e *event, _ []byte) (proto.Message, error) { return &kpp.String{V: f(e)}, nil }
}

func intv(f func(e *event) int) pdkFunc {
	return func(e *event, _ []byte) (proto.Message, error) { return &kpp.Int{V: int32(f(e))}, nil }
}

// dispatch serves one PDK call like Kong's call_pdk.
func (e *event) dispatch(method string, args []byte) (proto.Message, error) {
	pm, ok := pdkMethods[method]
	if !ok {
		return nil, fmt.Errorf("method %q not found", method)
	}
	if pm.phases != nil && !contains(pm.phases, e.phase) {
		return nil, &luaError{fmt.Sprintf("%s: function cannot be called in %s phase", method, e.phase)}
	}
	if pm.noLog && e.phase == "log" {
		return nil, &luaError{fmt.Sprintf("%s: API disabled in the current context (log phase runs in a timer)", method)}
	}
	return pm.fn(e, args)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode decodes PDK call args; Kong asserts on a decode failure.
func decode(args []byte, m proto.Message) error {
	if err := proto.Unmarshal(args, m); err != nil {
		return &luaError{fmt.Sprintf("decoding %T: %v", m, err)}
	}
	return nil
}

func maxArg(args []byte, name string) (int, error) {
	var n kpp.Int
	if err := decode(args, &n); err != nil {
		return 0, err
	}
	if n.V < 1 {
		return 0, &luaError{name + " must be >= 1"}
	}
	if n.V > 1000 {
		return 0, &luaError{name + " must be <= 1000"}
	}
	return int(n.V), nil
}

// luaFromValue is Kong's pb_unwrap for google.protobuf.Value (§3.7):
// `bool_value or string_value or number_value or null_value`, so false
// becomes nil; lists and structs are converted recursively (a nil inside a
// struct drops the key, as a Lua table cannot hold nil). A Go nil
// (null_value) is treated as nil too.
func luaFromValue(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	switch k := v.Kind.(type) {
	case *structpb.Value_BoolValue:
		if k.BoolValue {
			return true
		}
		return nil
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_NumberValue:
		return k.NumberValue
	case *structpb.Value_ListValue:
		out := make([]any, len(k.ListValue.GetValues()))
		for i, x := range k.ListValue.GetValues() {
			out[i] = luaFromValue(x)
		}
		return out
	case *structpb.Value_StructValue:
		return luaFromStruct(k.StructValue)
	}
	return nil
}

func luaFromStruct(s *structpb.Struct) map[string]any {
	out := map[string]any{}
	for key, x := range s.GetFields() {
		if y := luaFromValue(x); y != nil {
			out[key] = y
		}
	}
	return out
}

// valueFromLua is Kong's pb_wrap for google.protobuf.Value: nil → null,
// a table with t[1] → list, any other table (including an empty list) → struct.
func valueFromLua(x any) *structpb.Value {
	switch v := x.(type) {
	case nil:
		return structpb.NewNullValue()
	case bool:
		return structpb.NewBoolValue(v)
	case float64:
		return structpb.NewNumberValue(v)
	case string:
		return structpb.NewStringValue(v)
	case []any:
		if len(v) == 0 || v[0] == nil {
			return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{}})
		}
		l := &structpb.ListValue{}
		for _, y := range v {
			l.Values = append(l.Values, valueFromLua(y))
		}
		return structpb.NewListValue(l)
	case map[string]any:
		return structpb.NewStructValue(structFromLua(v))
	}
	return structpb.NewStringValue(fmt.Sprint(x))
}

func structFromLua(m map[string]any) *structpb.Struct {
	st := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(m))}
	for k, v := range m {
		st.Fields[k] = valueFromLua(v)
	}
	return st
}

// luaToString is tostring() as ngx.log applies it to each argument.
func luaToString(x any) string {
	switch v := x.(type) {
	case nil:
		return "nil"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', 14, 64)
	case string:
		return v
	}
	return "table: 0x00000000"
}
