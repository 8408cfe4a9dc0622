package gateway

import (
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Exchange is one event of a plugin that inspects traffic rather than
// authenticating it (authkit-oauth-explain): it can refuse, or annotate
// a proxied response with a code, through the same log line, serialize
// value and client body as every refusal.
type Exchange struct {
	s *session
}

// Run executes fn for one event with the same guarantees as Serve: a
// config error refuses with CONFIG_INVALID, a panic with INTERNAL_ERROR,
// and the plugin process keeps serving.
func Run(k Kong, plugin string, meta *Meta, policy func() (*Policy, error), fn func(x *Exchange)) {
	s := &session{kong: k, req: &Request{kong: k, meta: meta}, policy: &Policy{Plugin: plugin}}
	defer s.count()
	defer s.recover()
	s.flushTails()
	pol, err := policy()
	if err != nil {
		s.refuse(errcode.Wrap(errcode.ConfigInvalid, err))
		return
	}
	s.policy = pol
	fn(&Exchange{s: s})
}

// Request is the client's request.
func (x *Exchange) Request() *Request { return x.s.req }

// Prefetch reads the request facts in need in one round trip (with the
// project's plugin server; otherwise they are read when first used).
func (x *Exchange) Prefetch(need Facts) { x.s.req.prefetch(need) }

// Refuse answers the client with e (status, body, challenge), logs it and
// sets the serialize value. Nothing may follow it.
func (x *Exchange) Refuse(e *errcode.Error) { x.s.refuse(e) }

// UpstreamResponse returns the service's answer (response phase only).
func (x *Exchange) UpstreamResponse() (status int, headers map[string][]string, body []byte, err error) {
	if r := x.s.req.response; r != nil {
		return r.Status, r.Headers, r.Body, nil
	}
	return x.s.kong.ServiceResponse()
}

// Accept records that the exchange succeeded (a valid provider answer):
// outcome accepted in authkit_decisions_total. Nothing is logged.
func (x *Exchange) Accept() { x.s.decide(errcode.OutcomeAccepted, "") }

// Annotate explains a response that is passed through: it sets the
// response header (e.g. X-Authkit-Code), writes the one log line and sets
// the serialize value. The client still gets the provider's answer, which
// counts as refused with e's code: the provider said no, or said
// something the client cannot use.
func (x *Exchange) Annotate(e *errcode.Error, header string) {
	x.s.decide(errcode.OutcomeRefused, e.Code.Entry().Code)
	x.annotate(e, header, "")
}

// Warn is Annotate for an answer the client can use (a token response
// without Cache-Control: no-store, a grant the allow-lists would have
// refused with enforce): the record carries outcome accepted, the request
// counts as accepted and the code as a warning.
func (x *Exchange) Warn(e *errcode.Error, header string) {
	x.s.decide(errcode.OutcomeAccepted, "")
	x.annotate(e, header, errcode.OutcomeAccepted)
	x.s.metrics().Warning(e.Code)
}

func (x *Exchange) annotate(e *errcode.Error, header string, outcome errcode.Outcome) {
	rec := x.s.record(e)
	rec.Outcome = string(outcome)
	if header != "" {
		_ = x.s.kong.SetResponseHeader(header, string(e.Code))
	}
	ent := e.Code.Entry()
	level := ent.LogLevel()
	if ent.Class == errcode.ClassClient && x.s.policy.LogLevel != "" {
		level = x.s.policy.LogLevel
	}
	_ = x.s.kong.Log(level, rec.Line())
	_ = x.s.kong.SetSerializeValue("authkit", rec.Serialized())
}

// Replace answers the client with status, body and headers instead of the
// provider's answer (response phase), after annotating e.
func (x *Exchange) Replace(e *errcode.Error, status int, body []byte, headers map[string][]string) {
	x.Annotate(e, "") // refused
	if headers == nil {
		headers = map[string][]string{}
	}
	headers["X-Authkit-Code"] = []string{string(e.Code)}
	x.s.exited = true
	x.s.count()
	x.s.kong.Exit(status, body, headers)
}
