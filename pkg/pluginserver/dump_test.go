package pluginserver

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/Kong/go-pdk"
)

type dumpFields struct {
	Realm string `json:"realm"`
	N     int    `json:"n"`
}

// wrapped is an instance type whose kong.yaml fields are dumpFields'.
type wrapped struct{ cfg dumpFields }

func (w *wrapped) ConfigSchema() any     { return &w.cfg }
func (w *wrapped) Access(*pdk.PDK)       {}
func (w *wrapped) Response(*pdk.PDK)     {}
func (w *wrapped) Unrelated(*pdk.PDK)    {}
func (w *wrapped) Log(k *pdk.PDK, _ int) {} // go-pdk matches the name only

func TestDumpInfo(t *testing.T) {
	info, err := DumpInfo("authkit-x", "/kong/prefix", func() any { return &wrapped{} }, "1.2.3", 42)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeDump(&buf, info); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); b[len(b)-1] != '\n' || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("one JSON object and a newline: %q", b)
	}
	var got struct {
		Protocol, SocketPath string
		Plugins              []struct {
			Name     string
			Phases   []string
			Version  string
			Priority int
			Schema   struct {
				Name   string
				Fields []map[string]struct {
					Type   string
					Fields []map[string]struct{ Type string }
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	p := got.Plugins[0]
	if got.Protocol != "ProtoBuf:1" || got.SocketPath != "/kong/prefix/authkit-x.socket" || p.Name != "authkit-x" ||
		p.Version != "1.2.3" || p.Priority != 42 || p.Schema.Name != "authkit-x" {
		t.Fatalf("envelope %+v", got)
	}
	if !slices.Equal(p.Phases, []string{"access", "response", "log"}) {
		t.Errorf("phases %v", p.Phases)
	}
	cfg := p.Schema.Fields[0]["config"]
	if cfg.Type != "record" || len(cfg.Fields) != 2 || cfg.Fields[0]["realm"].Type != "string" || cfg.Fields[1]["n"].Type != "integer" {
		t.Errorf("the config schema is not dumpFields': %+v", cfg)
	}
}
