// Command gopdk-samecalls makes, on go-pdk's own server, the PDK calls
// authkit-key makes on its warm success path (get_headers, get_raw_query,
// client.authenticate, service.request.set_headers) and nothing else: the
// performance comparison's "same calls, stock server" row, so the report
// separates what the calls cost from what the project's server saves.
// The directory name is the plugin name.
package main

import (
	"github.com/Kong/go-pdk"
	"github.com/Kong/go-pdk/client"
	"github.com/Kong/go-pdk/entities"
	"github.com/Kong/go-pdk/server"
)

// Config has no fields.
type Config struct{}

// New is go-pdk's constructor.
func New() interface{} { return &Config{} }

var consumer = &entities.Consumer{Id: "8a3e4c9e-0b7f-4d1e-9c55-2f0c6e0a7b11", Username: "alice"}

// Access makes authkit-key's success calls, each waited for as go-pdk does.
func (c *Config) Access(k *pdk.PDK) {
	_, _ = k.Request.GetHeaders(-1)
	_, _ = k.Request.GetRawQuery()
	_ = k.Client.Authenticate(consumer, &client.AuthenticatedCredential{Id: "alice-key", ConsumerId: consumer.Id})
	_ = k.ServiceRequest.SetHeaders(map[string][]string{
		"X-Consumer-ID": {consumer.Id}, "X-Consumer-Username": {"alice"}, "X-Credential-Identifier": {"alice-key"},
		"X-Consumer-Custom-ID": {}, "X-Anonymous-Consumer": {},
	})
}

func main() { _ = server.StartServer(New, "0.1.0", 1000) }
