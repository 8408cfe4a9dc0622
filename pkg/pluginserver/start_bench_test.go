package pluginserver

import (
	"testing"

	"github.com/Kong/go-pdk"
)

// benchConfig is a config of authkit-oauth's shape: a record and arrays.
type benchConfig struct {
	Issuer    string            `json:"issuer"`
	Audiences []string          `json:"audiences"`
	Secret    string            `json:"introspection_client_secret"`
	Claims    map[string]string `json:"claims_to_headers"`
	Redis     struct {
		Host string `json:"host"`
		Port *int   `json:"port"`
	} `json:"redis"`
	Leeway *int `json:"leeway_seconds"`
}

func (c *benchConfig) Access(*pdk.PDK) {}

// BenchmarkStartInstance is the plugin side of one StartInstance: Kong
// waits for it on the first request after every config change.
func BenchmarkStartInstance(b *testing.B) {
	s := New(func() any { return &benchConfig{} })
	s.logf = func(string, ...any) {}
	config := []byte(`{"__seq__":3,"__key__":"k","__plugin_id":"p","route_id":"r","issuer":"https://idp.example",` +
		`"audiences":["a","b"],"introspection_client_secret":"s","$refs":{"introspection_client_secret":"{vault://env/x}"},` +
		`"claims_to_headers":{"sub":"X-Sub"},"redis":{"host":"h","port":6379,"$refs":{}},"leeway_seconds":null}`)
	b.ReportAllocs()
	for b.Loop() {
		inst, err := s.startInstance("bench", config)
		if err != nil {
			b.Fatal(err)
		}
		s.instances.remove(inst.id)
	}
}
