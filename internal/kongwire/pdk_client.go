package kongwire

import (
	"regexp"
	"strings"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// kong.client, kong.ip and kong.node.
func init() {
	// kong.client
	addP("kong.client.get_ip", nil, true, str(func(e *event) string { return e.req.ClientIP }))
	addP("kong.client.get_forwarded_ip", nil, true, str(func(e *event) string { return e.req.ClientIP }))
	addP("kong.client.get_port", nil, true, intv(func(e *event) int { return 54321 }))
	addP("kong.client.get_forwarded_port", nil, true, intv(func(e *event) int { return 54321 }))
	addP("kong.client.get_protocol", nil, true, str(func(e *event) string { return e.req.Scheme }))
	add("kong.client.get_credential", func(e *event, _ []byte) (proto.Message, error) {
		cred := e.req.Credential
		if e.rc.authed {
			cred = e.rc.authCred
		}
		if cred == nil {
			return &kpp.AuthenticatedCredential{}, nil
		}
		return &kpp.AuthenticatedCredential{Id: cred.ID, ConsumerId: cred.ConsumerID}, nil
	})
	add("kong.client.get_consumer", func(e *event, _ []byte) (proto.Message, error) {
		c := e.req.Consumer
		if e.rc.authed {
			c = e.rc.authCons
		}
		return consumerMsg(c), nil
	})
	addP("kong.client.load_consumer", []string{"access", "response", "log"}, false, loadConsumer)
	addP("kong.client.authenticate", []string{"access"}, false, authenticate)

	// kong.ip
	add("kong.ip.is_trusted", func(e *event, _ []byte) (proto.Message, error) { return &kpp.Bool{V: false}, nil })

	// kong.node
	add("kong.node.get_id", str(func(e *event) string { return e.s.NodeID }))
	add("kong.node.get_memory_stats", func(e *event, _ []byte) (proto.Message, error) { return &kpp.MemoryStats{}, nil })
}

var uuidRE = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// loadConsumer is kong.client.load_consumer (K3.9.1:kong/pdk/client.lua).
func loadConsumer(e *event, args []byte) (proto.Message, error) {
	var spec kpp.ConsumerSpec
	if err := decode(args, &spec); err != nil {
		return nil, err
	}
	isUUID := uuidRE.MatchString(spec.Id)
	if !isUUID && !spec.ByUsername {
		return nil, &luaError{"cannot load a consumer with an id that is not a uuid"}
	}
	if isUUID {
		if c := e.s.findConsumer(func(c *Consumer) bool { return strings.EqualFold(c.ID, spec.Id) }); c != nil {
			return consumerMsg(c), nil
		}
	}
	if spec.ByUsername {
		if c := e.s.findConsumer(func(c *Consumer) bool { return c.Username == spec.Id }); c != nil {
			return consumerMsg(c), nil
		}
	}
	return &kpp.Consumer{}, nil
}

// authenticate is kong.client.authenticate: it stores the decoded tables as
// ngx.ctx.authenticated_consumer/credential; it sets no upstream headers.
func authenticate(e *event, args []byte) (proto.Message, error) {
	var a kpp.AuthenticateArgs
	if err := decode(args, &a); err != nil {
		return nil, err
	}
	if a.Consumer == nil && a.Credential == nil {
		return nil, &luaError{"either credential or consumer must be provided"}
	}
	e.rc.authed = true
	e.rc.authCons, e.rc.authCred = nil, nil
	if c := a.Consumer; c != nil {
		e.rc.authCons = &Consumer{ID: c.Id, Username: c.Username, CustomID: c.CustomId, CreatedAt: c.CreatedAt, Tags: c.Tags}
	}
	if c := a.Credential; c != nil {
		e.rc.authCred = &Credential{ID: c.Id, ConsumerID: c.ConsumerId}
	}
	return nil, nil
}

func consumerMsg(c *Consumer) *kpp.Consumer {
	if c == nil {
		return &kpp.Consumer{}
	}
	return &kpp.Consumer{Id: c.ID, CreatedAt: c.CreatedAt, Username: c.Username, CustomId: c.CustomID, Tags: c.Tags}
}

func serviceID(inst *Instance) string {
	// Deterministic per instance: the route's service.
	return "5e7f1c3a-0000-4000-8000-" + strings.ReplaceAll(inst.RouteID, "-", "")[:12]
}
