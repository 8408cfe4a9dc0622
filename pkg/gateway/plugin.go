package gateway

import (
	"github.com/Kong/go-pdk"
)

// Compiled is what an authentication plugin's config compiles to: the
// Authenticator, and the Policy the gateway applies around it.
type Compiled interface {
	Authenticator
	Policy() *Policy
}

// Plugin is one instance of an authentication plugin as Kong starts it:
// Kong's config JSON decodes into the plugin's Config (C, the kong.yaml
// fields, flat) and into Meta (what Kong adds: route, plugin id,
// workspace). It is the one place that binds a plugin's config package to
// Kong, so a config package declares only its fields and Compile.
//
// The config is a field, not embedded: go-pdk's schema rules turn an
// embedded struct into a nested record (see Policy). The plugin server
// takes the schema from ConfigSchema instead (pluginserver.ConfigSchemer).
type Plugin[C any, A Compiled] struct {
	name    string
	compile func(*C) (A, error)
	config  C
	meta    Meta
}

// NewPlugin returns the constructor the plugin server calls for each
// instance (pluginserver.Start): name is the plugin's, compile its
// Config's Compile method, e.g.
//
//	gateway.NewPlugin(basicauth.PluginName, (*basicauth.Config).Compile)
func NewPlugin[C any, A Compiled](name string, compile func(*C) (A, error)) func() any {
	return func() any { return &Plugin[C, A]{name: name, compile: compile} }
}

// UnmarshalJSON decodes what Kong sends in StartInstance: the schema
// fields into the Config, Kong's own keys into Meta.
func (p *Plugin[C, A]) UnmarshalJSON(b []byte) error { return DecodeConfig(b, &p.config, &p.meta) }

// ConfigSchema is the value Kong's schema is reflected from: the Config.
func (p *Plugin[C, A]) ConfigSchema() any { return &p.config }

// Config is the decoded config.
func (p *Plugin[C, A]) Config() *C { return &p.config }

// Access authenticates the request (Kong's access phase).
func (p *Plugin[C, A]) Access(k *pdk.PDK) { Serve(PDK(k), p.name, &p.meta, p.prepare) }

// prepare compiles the config once per process (Compile) and returns the
// shared policy and authenticator.
func (p *Plugin[C, A]) prepare() (*Policy, Authenticator, error) {
	a, err := Compile(p.name, &p.meta, p.build)
	if err != nil {
		return nil, nil, err
	}
	return a.Policy(), a, nil
}

func (p *Plugin[C, A]) build() (A, error) { return p.compile(&p.config) }

// Inspecting is what a plugin that inspects traffic rather than
// authenticating it compiles to (authkit-oauth-explain): its Policy and
// its two phases, run through Run.
type Inspecting interface {
	Policy() *Policy
	Access(x *Exchange)
	Response(x *Exchange)
}

// Inspector is Plugin for an Inspecting plugin: an access and a response
// phase. The Response handler makes Kong buffer every response on the
// plugin's routes, which is why such a plugin is a binary of its own.
type Inspector[C any, A Inspecting] struct {
	name    string
	compile func(*C) (A, error)
	config  C
	meta    Meta
}

// NewInspector is NewPlugin for an Inspecting plugin.
func NewInspector[C any, A Inspecting](name string, compile func(*C) (A, error)) func() any {
	return func() any { return &Inspector[C, A]{name: name, compile: compile} }
}

// UnmarshalJSON: see Plugin.UnmarshalJSON.
func (p *Inspector[C, A]) UnmarshalJSON(b []byte) error { return DecodeConfig(b, &p.config, &p.meta) }

// ConfigSchema: see Plugin.ConfigSchema.
func (p *Inspector[C, A]) ConfigSchema() any { return &p.config }

// Config is the decoded config.
func (p *Inspector[C, A]) Config() *C { return &p.config }

// Access runs the compiled config's access phase.
func (p *Inspector[C, A]) Access(k *pdk.PDK) {
	p.run(PDK(k), func(a A, x *Exchange) { a.Access(x) })
}

// Response runs the compiled config's response phase.
func (p *Inspector[C, A]) Response(k *pdk.PDK) {
	p.run(PDK(k), func(a A, x *Exchange) { a.Response(x) })
}

func (p *Inspector[C, A]) run(k Kong, phase func(A, *Exchange)) {
	var a A
	policy := func() (*Policy, error) {
		var err error
		if a, err = Compile(p.name, &p.meta, p.build); err != nil {
			return nil, err
		}
		return a.Policy(), nil
	}
	Run(k, p.name, &p.meta, policy, func(x *Exchange) { phase(a, x) })
}

func (p *Inspector[C, A]) build() (A, error) { return p.compile(&p.config) }

// A wrong phase signature would compile and never run; these guards fail
// the build instead.
var (
	_ interface{ Access(*pdk.PDK) } = (*Plugin[struct{}, Compiled])(nil)
	_ interface {
		Access(*pdk.PDK)
		Response(*pdk.PDK)
	} = (*Inspector[struct{}, Inspecting])(nil)
)
