package pluginserver

import (
	"encoding/json"
	"io"
	"path"
	"reflect"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// ConfigSchemer is implemented by an instance type whose kong.yaml fields
// are another type's: -dump reflects the schema from ConfigSchema's value
// (a pointer to the config struct) instead of the instance itself. The
// instance keeps its phase methods and decodes Kong's JSON into that value.
type ConfigSchemer interface {
	ConfigSchema() any
}

// Info is what -dump prints: go-pdk's serverInfo (server/os.go), which
// Kong reads at start-up (kong-go-plugins.md §1.3).
type Info struct {
	Protocol   string
	SocketPath string
	Plugins    []PluginInfo
}

// PluginInfo is go-pdk's pluginInfo without its unset times.
type PluginInfo struct {
	Name     string
	Phases   []string
	Version  string
	Priority int
	Schema   map[string]any
}

// phaseMethods are the handler methods go-pdk recognises, in its order
// (server/rpc.go methodNames).
var phaseMethods = []string{"Certificate", "Rewrite", "Access", "Response", "Preread", "Log"}

// Phases lists the phases v handles, lower-cased, in go-pdk's order.
func Phases(v any) []string {
	t := reflect.TypeOf(v)
	out := []string{}
	for _, m := range phaseMethods {
		if _, ok := t.MethodByName(m); ok {
			out = append(out, strings.ToLower(m))
		}
	}
	return out
}

// DumpInfo is the -dump answer for the plugin name, the constructor's
// instance type, version and priority, with the socket under prefix:
// go-pdk's envelope, and the full Kong schema of the config type
// (kongschema.Generate: go-pdk's field names and types, plus the defaults,
// validators, references and entity checks the config declares).
func DumpInfo(name, prefix string, constructor func() any, version string, priority int) (Info, error) {
	v := constructor()
	schemaOf := v
	if s, ok := v.(ConfigSchemer); ok {
		schemaOf = s.ConfigSchema()
	}
	config, err := kongschema.Generate(schemaOf)
	if err != nil {
		return Info{}, err
	}
	return Info{
		Protocol:   "ProtoBuf:1",
		SocketPath: path.Join(prefix, name+".socket"),
		Plugins: []PluginInfo{{
			Name:     name,
			Phases:   Phases(v),
			Version:  version,
			Priority: priority,
			Schema: map[string]any{
				"name":   name,
				"fields": []map[string]any{{"config": config}},
			},
		}},
	}, nil
}

// writeDump prints info as Kong's query command must: one JSON object and
// a newline, nothing else on stdout.
func writeDump(w io.Writer, info Info) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
