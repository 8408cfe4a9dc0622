package gateway

import (
	"io"

	"github.com/Kong/go-pdk"
)

// Compiled is what an authentication plugin's config compiles to: the
// Authenticator, and the Policy the gateway applies around it.
type Compiled interface {
	Authenticator
	Policy() *Policy
}

// Inspecting is what a plugin that inspects traffic rather than
// authenticating it compiles to (authkit-oauth-explain): its Policy and
// its two phases, run through Run.
type Inspecting interface {
	Policy() *Policy
	Access(x *Exchange)
	Response(x *Exchange)
}

// instance is one plugin instance as Kong starts it: Kong's config JSON
// decodes into the plugin's Config (C, the kong.yaml fields, flat) and
// into Meta (what Kong adds: route, plugin id, workspace). The config is
// a field, not embedded: go-pdk's schema rules turn an embedded struct
// into a nested record (see Policy); the plugin server takes the schema
// from ConfigSchema instead (pluginserver.ConfigSchemer).
type instance[C, A any] struct {
	name    string
	compile func(*C) (A, error)
	config  C
	meta    Meta
}

// UnmarshalJSON decodes what Kong sends in StartInstance: the schema
// fields into the Config, Kong's own keys into Meta.
func (i *instance[C, A]) UnmarshalJSON(b []byte) error { return DecodeConfig(b, &i.config, &i.meta) }

// ConfigSchema is the value Kong's schema is reflected from: the Config.
func (i *instance[C, A]) ConfigSchema() any { return &i.config }

// Config is the decoded config.
func (i *instance[C, A]) Config() *C { return &i.config }

// Close is called by the plugin server when the instance goes (Kong
// closed it, or the server replaced or reaped it): the instance gives
// back its compiled config and its metrics route, which are released
// once no instance holds them (Compile, metrics.Route.Release).
func (i *instance[C, A]) Close() error {
	if i.meta.memo != nil {
		i.meta.memo.close()
	}
	return nil
}

// compiled is the config compiled once per process (Compile).
func (i *instance[C, A]) compiled() (A, error) { return Compile(i.name, &i.meta, i.build) }

func (i *instance[C, A]) build() (A, error) { return i.compile(&i.config) }

// Plugin is an authentication plugin's instance. It is the one place that
// binds a plugin's config package to Kong, so a config package declares
// only its fields and Compile.
type Plugin[C any, A Compiled] struct{ instance[C, A] }

// NewPlugin returns the constructor the plugin server calls for each
// instance (pluginserver.Start): name is the plugin's, compile its
// Config's Compile method, e.g.
//
//	gateway.NewPlugin(basicauth.PluginName, (*basicauth.Config).Compile)
func NewPlugin[C any, A Compiled](name string, compile func(*C) (A, error)) func() any {
	return func() any { return &Plugin[C, A]{instance[C, A]{name: name, compile: compile}} }
}

// Access authenticates the request (Kong's access phase).
func (p *Plugin[C, A]) Access(k *pdk.PDK) { Serve(PDK(k), p.name, &p.meta, p.prepare) }

// prepare returns the shared policy and authenticator.
func (p *Plugin[C, A]) prepare() (*Policy, Authenticator, error) {
	a, err := p.compiled()
	if err != nil {
		return nil, nil, err
	}
	return a.Policy(), a, nil
}

// Inspector is Plugin for an Inspecting plugin: an access and a response
// phase. The Response handler makes Kong buffer every response on the
// plugin's routes, which is why such a plugin is a binary of its own.
type Inspector[C any, A Inspecting] struct{ instance[C, A] }

// NewInspector is NewPlugin for an Inspecting plugin.
func NewInspector[C any, A Inspecting](name string, compile func(*C) (A, error)) func() any {
	return func() any { return &Inspector[C, A]{instance[C, A]{name: name, compile: compile}} }
}

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
		if a, err = p.compiled(); err != nil {
			return nil, err
		}
		return a.Policy(), nil
	}
	Run(k, p.name, &p.meta, policy, func(x *Exchange) { phase(a, x) })
}

// A wrong phase signature would compile and never run; these guards fail
// the build instead.
var (
	_ interface {
		Access(*pdk.PDK)
		io.Closer
	} = (*Plugin[struct{}, Compiled])(nil)
	_ interface {
		Access(*pdk.PDK)
		Response(*pdk.PDK)
	} = (*Inspector[struct{}, Inspecting])(nil)
)
