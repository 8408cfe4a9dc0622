// Command pstest is the plugin the pluginserver tests drive over the wire:
// built once on the project's server and once (-tags gopdkserver) on
// go-pdk's, with the same config and handlers.
package main

import (
	"encoding/json"
	"strings"

	"github.com/Kong/go-pdk"
	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Config covers each kind of field go-pdk's schema generator knows, and
// a few of the attributes only the project's -dump adds (kongschema tags).
type Config struct {
	Message      string            `json:"message" default:"hi" len_min:"0"`
	Count        int               `json:"count" between:"0,100"`
	Ratio        float64           `json:"ratio"`
	Enabled      bool              `json:"enabled"`
	Tags         []string          `json:"tags"`
	Labels       map[string]string `json:"labels"`
	Inner        Inner             `json:"inner"`
	PanicOnStart bool              `json:"panic_on_start"`
}

// Inner is a nested record.
type Inner struct {
	Name  string `json:"name" one_of:"a,b"`
	Limit uint32 `json:"limit"`
}

// New is go-pdk's constructor.
func New() interface{} { return &Config{} }

// UnmarshalJSON can panic on request, to prove StartInstance recovers.
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	if c.PanicOnStart {
		panic("pstest: asked to panic while decoding the config")
	}
	return nil
}

// Access: X-Panic panics without recovering (the server must); X-Mode
// picks the I/O style: "stock" uses go-pdk's API only, "pipelined" the
// server's batch and deferred calls; X-Exit exits with that status.
func (c *Config) Access(k *pdk.PDK) {
	h, _ := k.Request.GetHeaders(100)
	first := func(n string) string {
		if v := h[strings.ToLower(n)]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if first("X-Panic") == "before-exit" {
		if conn := pluginserver.ConnOf(k); conn != nil {
			_ = conn.Defer("kong.log.notice", list("about to panic"))
		}
		panic("pstest: asked to panic")
	}
	conn := pluginserver.ConnOf(k)
	if first("X-Mode") == "pipelined" && conn != nil {
		var method, query kpp.String
		_ = conn.Batch(pluginserver.Call{Method: "kong.request.get_method", Out: &method},
			pluginserver.Call{Method: "kong.request.get_raw_query", Out: &query})
		_ = conn.Defer("kong.service.request.set_header", &kpp.KV{K: "X-Seen", V: structpb.NewStringValue(method.V + "?" + query.V)})
		_ = conn.Defer("kong.log.notice", list("pipelined "+c.Message))
		if st := first("X-Exit"); st != "" {
			_ = conn.Exit(403, []byte(`{"message":"denied"}`), map[string][]string{"Content-Type": {"application/json"}})
		}
		return
	}
	m, _ := k.Request.GetMethod()
	_ = k.ServiceRequest.SetHeader("X-Seen", m)
	_ = k.Log.Notice("stock " + c.Message)
	if first("X-Exit") != "" {
		k.Response.Exit(403, []byte(`{"message":"denied"}`), map[string][]string{"Content-Type": {"application/json"}})
	}
}

func list(s string) *structpb.ListValue {
	return &structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue(s)}}
}
