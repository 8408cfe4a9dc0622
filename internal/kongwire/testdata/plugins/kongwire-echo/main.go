// Command kongwire-echo is the test plugin for package kongwire.
package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/Kong/go-pdk"
	"github.com/Kong/go-pdk/client"
	"github.com/Kong/go-pdk/entities"
	"github.com/Kong/go-pdk/server"
	"github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/types/known/structpb"
)

type Inner struct {
	Username string `json:"username"`
	Strict   bool   `json:"strict"`
}

type Cred struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type Config struct {
	Message     string            `json:"message"`
	Enabled     *bool             `json:"enabled"`
	Count       int               `json:"count"`
	Limit       uint32            `json:"limit"`
	Tags        []string          `json:"tags"`
	Labels      map[string]string `json:"labels"`
	Inner       Inner             `json:"inner"`
	Credentials []Cred            `json:"credentials"`
	TTL         int64             `json:"ttl"` // dropped by go-pdk's schema on purpose
}

func New() interface{} { return &Config{} }

func main() { _ = server.StartServer(New, "0.1.0", 1000) }

func (c *Config) Access(kong *pdk.PDK) {
	h, _ := kong.Request.GetHeaders(-1)
	first := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if ms := first("x-sleep"); ms != "" {
		n, _ := strconv.Atoi(ms)
		time.Sleep(time.Duration(n) * time.Millisecond)
	}
	if first("x-panic") != "" {
		panic("kongwire-echo: asked to panic")
	}
	if m := first("x-unknown-method"); m != "" {
		_ = kong.Log.Ask(m, nil, nil)
		return
	}
	if first("x-raw-body") != "" {
		// go-pdk's own GetRawBody: reads a spooled body's file.
		b, err := kong.Request.GetRawBody()
		_ = kong.ServiceRequest.SetHeader("X-Echo-Body-Len", strconv.Itoa(len(b)))
		if err != nil {
			_ = kong.ServiceRequest.SetHeader("X-Echo-Body-Err", err.Error())
		}
		out := new(kong_plugin_protocol.RawBodyResult)
		_ = kong.Request.Ask("kong.request.get_raw_body", nil, out)
		if out.GetBodyFilepath() != "" {
			_ = kong.ServiceRequest.SetHeader("X-Echo-Body-File", "yes")
		}
		return
	}
	if st := first("x-exit"); st != "" {
		n, _ := strconv.Atoi(st)
		kong.Response.Exit(n, []byte(`{"message":"denied"}`), map[string][]string{
			"Content-Type": {"application/json"},
			"X-Multi":      {"a", "b"},
		})
		return
	}
	if first("x-set-headers") != "" {
		_ = kong.ServiceRequest.SetHeaders(map[string][]string{
			"X-Removed": {}, "X-Empty-String": {""}, "X-Multi-Empty": {"a", ""},
		})
		_ = kong.ServiceRequest.ClearHeader("X-Cleared")
		return
	}
	_ = kong.ServiceRequest.SetHeader("X-Echo-Message", c.Message)
	_ = kong.ServiceRequest.SetHeader("X-Echo-Tags", strings.Join(c.Tags, ","))
	_ = kong.ServiceRequest.SetHeader("X-Echo-Inner", c.Inner.Username)
	_ = kong.Log.Notice("echo ", c.Message, " count=", c.Count)

	v, _ := structpb.NewValue(map[string]interface{}{"user": first("x-user"), "ok": true})
	_ = kong.Log.Ask("kong.log.set_serialize_value", &kong_plugin_protocol.KV{K: "authkit", V: v}, nil)
	if first("x-flag-false") != "" {
		_ = kong.Log.Ask("kong.log.set_serialize_value", &kong_plugin_protocol.KV{K: "authkit.ok", V: structpb.NewBoolValue(false)}, nil)
	}
	if id := first("x-load-consumer"); id != "" {
		cons, err := kong.Client.LoadConsumer(id, first("x-by-username") == "1")
		if err != nil {
			return
		}
		_ = kong.ServiceRequest.SetHeader("X-Consumer-Username", cons.Username)
		_ = kong.ServiceRequest.SetHeader("X-Consumer-ID", cons.Id)
		if first("x-auth") != "" && cons.Id != "" {
			_ = kong.Client.Authenticate(&entities.Consumer{Id: cons.Id, Username: cons.Username},
				&client.AuthenticatedCredential{Id: "cred-1", ConsumerId: cons.Id})
		}
	}
}

func (c *Config) Response(kong *pdk.PDK) {
	st, _ := kong.ServiceResponse.GetStatus()
	_ = kong.Response.SetHeader("X-Upstream-Status", strconv.Itoa(st))
}
