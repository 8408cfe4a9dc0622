// Command authkit-probe is the differential test plugin of package e2e: it
// makes each kind of PDK call the authkit plugins make (pkg/gateway's
// adapter) and reports what it got, so the same scenario run under
// internal/kongwire and under a real Kong must report the same thing.
//
// The request header X-Probe selects the scenario:
//
//	read       report request reads (headers, query, body, client, consumers) in a 200 exit body
//	set        set/remove upstream headers, then proxy (the upstream echoes what it got)
//	exit       answer with kong.response.exit: status, multi-value and empty headers
//	serialize  kong.log.set_serialize_value (with a false and a nested value) and a log line, then proxy
//
// With config mode "response" the Response handler reports the service's
// answer as read through kong.service.response.* and kong.response.* in
// the X-Probe-Response header.
package main

import (
	"encoding/json"
	"strings"

	"github.com/Kong/go-pdk"
	"github.com/Kong/go-pdk/server"
	"github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/types/known/structpb"
)

// Config selects the phases' behaviour.
type Config struct {
	// Mode is "access" or "response".
	Mode string `json:"mode"`
}

// New is go-pdk's constructor.
func New() interface{} { return &Config{} }

func main() { _ = server.StartServer(New, "0.1.0", 1000) }

// Access runs the scenario named by X-Probe.
func (c *Config) Access(k *pdk.PDK) {
	h, _ := k.Request.GetHeaders(1000)
	switch first(h, "x-probe") {
	case "read":
		read(k, h)
	case "set":
		fields := map[string]*structpb.Value{
			"X-Empty-String": structpb.NewStringValue(""),
			"X-Set":          structpb.NewStringValue("v"),
			"X-Removed-List": structpb.NewListValue(&structpb.ListValue{}),
			"X-Absent-List":  structpb.NewListValue(&structpb.ListValue{}),
			"X-List": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
				structpb.NewStringValue("a"), structpb.NewStringValue("")}}),
		}
		_ = k.ServiceRequest.Ask("kong.service.request.set_headers", &structpb.Struct{Fields: fields}, nil)
		_ = k.ServiceRequest.ClearHeader("X-Cleared")
		_ = k.ServiceRequest.SetHeader("X-Set-One-Empty", "")
	case "exit":
		k.Response.Exit(401, []byte(`{"message":"probe","code":"PROBE"}`), map[string][]string{
			"Content-Type":     {"application/json; charset=utf-8"},
			"Www-Authenticate": {`Basic realm="probe"`},
			"X-Multi":          {"a", "b"},
			"X-Exit-Empty":     {""},
		})
	case "serialize":
		v, _ := structpb.NewValue(map[string]any{"code": "PROBE", "flag": false, "yes": true, "n": 3, "s": "", "nested": map[string]any{"a": "b"}})
		_ = k.Log.Ask("kong.log.set_serialize_value", &kong_plugin_protocol.KV{K: "authkit", V: v}, nil)
		_ = k.Log.Ask("kong.log.set_serialize_value", &kong_plugin_protocol.KV{K: "probe.dotted", V: structpb.NewStringValue("x")}, nil)
		_ = k.Log.Notice("authkit-probe ", 1, " ", true, " ", 2.5)
	}
}

func read(k *pdk.PDK, h map[string][]string) {
	out := map[string]any{}
	xh := map[string][]string{}
	for name, v := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-") {
			xh[name] = v // the names exactly as Kong gave them
		}
	}
	out["get_headers"] = xh
	out["get_header_multi"], _ = k.Request.GetHeader("X-Multi")
	out["get_header_underscore"], _ = k.Request.GetHeader("x_multi")
	out["get_header_missing"], _ = k.Request.GetHeader("X-Missing")
	out["get_header_empty"], _ = k.Request.GetHeader("X-Empty-In")
	out["raw_query"], _ = k.Request.GetRawQuery()
	b, err := k.Request.GetRawBody()
	out["raw_body"], out["raw_body_err"] = string(b), errString(err)
	out["method"], _ = k.Request.GetMethod()
	cred, err := k.Client.GetCredential()
	out["credential_id"], out["credential_err"] = cred.Id, errString(err)
	cons, _ := k.Client.GetConsumer()
	out["consumer_id"] = cons.Id
	c, err := k.Client.LoadConsumer("probe-user", true)
	out["load_username"], out["load_custom_id"], out["load_has_id"], out["load_err"] = c.Username, c.CustomId, c.Id != "", errString(err)
	g, err := k.Client.LoadConsumer("ghost", true)
	out["load_missing_id"], out["load_missing_err"] = g.Id, errString(err)
	js, _ := json.Marshal(out)
	k.Response.Exit(200, js, map[string][]string{"Content-Type": {"application/json"}})
}

// Response reports the service's answer.
func (c *Config) Response(k *pdk.PDK) {
	if c.Mode != "response" {
		return
	}
	out := map[string]any{}
	out["status"], _ = k.ServiceResponse.GetStatus()
	svc, err := k.ServiceResponse.GetHeaders(1000)
	out["service_get_headers_count"], out["service_get_headers_err"] = len(svc), errString(err)
	out["service_get_header_ct"], _ = k.ServiceResponse.GetHeader("Content-Type")
	out["service_get_header_multi"], _ = k.ServiceResponse.GetHeader("x-multi")
	resp, _ := k.Response.GetHeaders(1000)
	out["response_get_headers_ct"] = resp["content-type"]
	out["response_get_headers_multi"] = resp["x-multi"]
	out["response_get_headers_canonical_ct"] = resp["Content-Type"]
	body, err := k.ServiceResponse.GetRawBody()
	out["body_len"], out["body_err"] = len(body), errString(err)
	js, _ := json.Marshal(out)
	_ = k.Response.SetHeader("X-Probe-Response", string(js))
}

func first(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func errString(err error) string {
	if err != nil {
		return err.Error()
	}
	return ""
}

var (
	_ interface{ Access(*pdk.PDK) }   = (*Config)(nil)
	_ interface{ Response(*pdk.PDK) } = (*Config)(nil)
)
