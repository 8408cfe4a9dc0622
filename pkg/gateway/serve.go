package gateway

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// Policy is the compiled form of the settings every auth plugin shares.
//
// Each plugin's Config repeats the fields behind it (anonymous,
// hide_credentials, run_on_preflight, realm, log_level) instead of embedding
// a shared struct: go-pdk reflects an embedded struct into a nested record
// of Kong's schema (kong-go-plugins.md §1.4), which would turn
// `anonymous: x` into `common: {anonymous: x}` in every kong.yaml.
type Policy struct {
	// Plugin is the plugin name, written into every log record.
	Plugin string
	// Anonymous is the consumer (username or id) to fall back to when
	// authentication fails; "" refuses instead. Kong's logical-OR
	// semantics: with it set, a request another auth plugin already
	// authenticated is left alone.
	Anonymous string
	// RunOnPreflight false lets CORS preflight (OPTIONS) requests through
	// unauthenticated, like Kong's key-auth.
	RunOnPreflight bool
	// LogLevel is the level for client refusals; provider and gateway
	// failures are always logged at err.
	LogLevel string
	// Challenge builds WWW-Authenticate.
	Challenge Challenge
	// Challenges, when set, builds every challenge instead of Challenge
	// (RFC 9449 §7.1: Bearer and DPoP challenges side by side); they are
	// sent comma-separated in one WWW-Authenticate value.
	Challenges Challenges
	// Body builds the refusal body; nil means {"message":…,"code":…}.
	Body func(ent errcode.Entry, e *errcode.Error) []byte
	// OwnedHeaders are the upstream headers the plugin sets on success
	// beyond the X-Consumer-* set (scopes, claims). They are removed when
	// the request continues as anonymous, so a client cannot spoof them.
	OwnedHeaders []string
	// Warnings are found when the config compiles: it works, but weakens
	// a guarantee (e.g. Basic users with hashes of different costs). Each
	// is logged once per compiled config, at warn, on its first request;
	// `authkit check` prints them.
	Warnings []string
	warned   atomic.Bool
	// Prefetch are the request facts the authenticator reads besides the
	// headers (e.g. the raw query for keys in the query string). With the
	// project's plugin server they are fetched, with the headers and what
	// the policy itself needs, in one round trip.
	Prefetch Facts
}

// needs is every fact one event under p reads.
func (p *Policy) needs() Facts {
	f := FactHeaders | p.Prefetch
	if !p.RunOnPreflight {
		// A preflight let through asks whether an earlier plugin
		// authenticated it (passUnauthenticated).
		f |= FactMethod | FactCredential
	}
	if p.Anonymous != "" {
		f |= FactCredential
	}
	return f
}

// Identity is a successful authentication.
type Identity struct {
	// Consumer is the Kong consumer (username or id) to map to; "" means
	// authenticated without a consumer (credential only).
	Consumer string
	// ConsumerOptional continues without a consumer when Consumer is not
	// found in Kong, instead of refusing with CONSUMER_NOT_FOUND.
	ConsumerOptional bool
	// Virtual, when set, is authenticated as is, without a Kong lookup
	// (Kong's PDK cannot look consumers up by custom_id).
	Virtual *Consumer
	// CredentialID goes to X-Credential-Identifier and to
	// kong.client.authenticate. Never the secret itself.
	CredentialID string
	// Headers are extra upstream headers to set ("" removes one): claims,
	// scopes, and the credential header to hide.
	Headers map[string]string
	// RawQuery / Body, when non-nil, replace the upstream query or body
	// (hide_credentials for keys found there).
	RawQuery *string
	Body     []byte
	// ResponseHeaders are set on the response to the client (e.g. a new
	// DPoP-Nonce, RFC 9449 §8.2); "" values are skipped.
	ResponseHeaders map[string]string
	// Warning, when set, is logged once at warn with outcome "accepted":
	// the request was let through but the operator should know (stale keys
	// served because the provider failed).
	Warning *errcode.Error
}

// Authenticator decides one request. It returns an Identity, or an error
// carrying a catalog code (errcode.Error). "No" is an error too: a nil
// Identity with a nil error is a bug and refused as INTERNAL_ERROR.
type Authenticator interface {
	Authenticate(r *Request) (*Identity, error)
}

// Prepare compiles the plugin's config (cached process-wide by Compile).
type Prepare func() (*Policy, Authenticator, error)

// Identity headers Kong's bundled auth plugins set or clear
// (kong/constants.lua HEADERS), so clients cannot spoof them.
const (
	HeaderConsumerID         = "X-Consumer-ID"
	HeaderConsumerCustomID   = "X-Consumer-Custom-ID"
	HeaderConsumerUsername   = "X-Consumer-Username"
	HeaderCredentialIdentity = "X-Credential-Identifier"
	HeaderAnonymousConsumer  = "X-Anonymous-Consumer"
)

// testPanicHeader is set only in binaries built with the
// authkit_testseam tag (testseam.go): a request carrying it panics inside
// the handler, so tests can prove that a panic is recovered.
var testPanicHeader string

// testClockHeader is set only in test seam builds: the refusal log's
// clock, in Unix milliseconds (refusallog.go).
var testClockHeader string

// Serve runs one access-phase event: it never lets a request through on an
// error or a panic.
func Serve(k Kong, plugin string, meta *Meta, prepare Prepare) {
	s := &session{kong: k, req: &Request{kong: k, meta: meta}, policy: &Policy{Plugin: plugin}}
	defer s.count() // after recover: a recovered panic is a refusal too
	defer s.recover()

	s.flushTails()
	pol, auth, err := prepare()
	if err != nil {
		s.refuse(errcode.Wrap(errcode.ConfigInvalid, err))
		return
	}
	s.policy = pol
	s.req.prefetch(pol.needs())
	s.warnConfig()
	if !pol.RunOnPreflight && s.req.Method() == "OPTIONS" {
		s.passUnauthenticated()
		return
	}
	if pol.Anonymous != "" {
		// Kong's logical OR: another auth plugin already succeeded. The
		// headers this plugin would have set must not be the client's.
		if s.req.Credential() != "" {
			if len(pol.OwnedHeaders) > 0 {
				clear := make(map[string]string, len(pol.OwnedHeaders))
				for _, h := range pol.OwnedHeaders {
					clear[h] = ""
				}
				_ = k.SetUpstreamHeaders(clear)
			}
			return
		}
	}
	// Every authenticator starts with the headers (this costs no extra
	// call). go-pdk cannot decode a header value that is not UTF-8 (proto3
	// strings), so one such header makes Kong's get_headers fail and every
	// header look absent: a credential there would be neither seen nor
	// counted as a duplicate. Refuse instead of authenticating a request
	// the plugin only half read.
	if err := s.req.HeadersErr(); err != nil {
		s.refuse(errcode.New(errcode.InternalError, "request headers unreadable (a header value that is not UTF-8?): %v", err))
		return
	}
	if testPanicHeader != "" && s.req.Header(testPanicHeader) != "" {
		panic("authkit: panic injected by the test seam")
	}

	ident, err := auth.Authenticate(s.req)
	s.logWarnings()
	if err == nil && ident == nil {
		err = errcode.New(errcode.InternalError, "authenticator returned neither identity nor error")
	}
	if err != nil {
		s.fail(errcode.From(err))
		return
	}
	s.accept(ident, false)
}

// warnConfig logs the compiled config's warnings, once per compiled config
// (the Policy is shared by every instance with that config), as authkit
// records with the CONFIG_INVALID code and outcome "accepted": nothing is
// refused because of them.
func (s *session) warnConfig() {
	if len(s.policy.Warnings) == 0 || !s.policy.warned.CompareAndSwap(false, true) {
		return
	}
	for _, w := range s.policy.Warnings {
		rec := s.record(errcode.New(errcode.ConfigInvalid, "config warning: %s", w).With("warning", "true"))
		rec.Outcome = string(errcode.OutcomeAccepted)
		_ = s.kong.Log("warn", rec.Line())
		s.metrics().Warning(errcode.ConfigInvalid)
	}
}

// logWarnings logs what the authenticator recorded with Request.Warn.
func (s *session) logWarnings() {
	for _, w := range s.req.warnings {
		rec := s.record(w)
		rec.Outcome = string(errcode.OutcomeAccepted)
		_ = s.kong.Log("warn", rec.Line())
		s.metrics().Warning(w.Code)
	}
}

// passUnauthenticated lets a CORS preflight through without authenticating
// it (run_on_preflight: false), but never with identity headers the client
// set: X-Consumer-*, X-Credential-Identifier, X-Anonymous-Consumer and the
// plugin's own headers are cleared on this path as on every other path
// that reaches the upstream. When an earlier auth plugin authenticated the
// request, the X-Consumer-* set is that plugin's and stays; only this
// plugin's own headers are cleared. A failure to clear refuses (fail
// closed): the upstream must never see a spoofed identity.
func (s *session) passUnauthenticated() {
	clear := make(map[string]string, 5+len(s.policy.OwnedHeaders))
	for _, h := range s.policy.OwnedHeaders {
		clear[h] = ""
	}
	if s.req.Credential() == "" {
		for _, h := range []string{HeaderConsumerID, HeaderConsumerCustomID, HeaderConsumerUsername, HeaderCredentialIdentity, HeaderAnonymousConsumer} {
			clear[h] = ""
		}
	}
	if len(clear) == 0 {
		return
	}
	if err := s.kong.SetUpstreamHeaders(clear); err != nil {
		s.refuse(errcode.Wrap(errcode.InternalError, fmt.Errorf("clear identity headers on preflight: %w", err)))
	}
}

type session struct {
	kong   Kong
	req    *Request
	policy *Policy
	exited bool
	// gate, when set, throttles the refusal's log line (CONFIG_INVALID:
	// refusallog.go).
	gate *refusalGate

	// outcome and code are the decision so far; count records the final
	// one, once per event. An event that decides nothing (a preflight let
	// through, a request another auth plugin authenticated, an explained
	// request before its response) leaves outcome empty.
	outcome errcode.Outcome
	code    errcode.Code
	counted bool
}

func (s *session) decide(o errcode.Outcome, c errcode.Code) { s.outcome, s.code = o, c }

// count records the event's decision in authkit_decisions_total, once. It
// runs before the write that ends the event (the end frame, or the exit),
// so a scrape after the client's answer always sees the decision.
func (s *session) count() {
	if s.outcome != "" && !s.counted && metrics.Enabled() {
		s.metrics().Decision(s.outcome, s.code)
	}
	s.counted = true
}

// metrics is the decision counters of this plugin on this route: plugin
// and route id come from Kong's configuration, never from the request.
func (s *session) metrics() *metrics.Route {
	if !metrics.Enabled() {
		return nil
	}
	return s.req.meta.metricsRoute(s.policy.Plugin)
}

// fail refuses, or falls back to the anonymous consumer for client-side
// failures. Provider and gateway failures are always refused: an outage
// must not quietly downgrade every caller to anonymous (fail closed).
func (s *session) fail(e *errcode.Error) {
	if s.policy.Anonymous != "" && e.Code.Entry().Class == errcode.ClassClient {
		s.decide(errcode.OutcomeAnonymous, e.Code)
		rec := s.record(e)
		rec.Anonymous = "true"
		_ = s.kong.SetSerializeValue("authkit", rec.Serialized())
		ident := &Identity{Consumer: s.policy.Anonymous, Headers: map[string]string{}}
		for _, h := range s.policy.OwnedHeaders {
			ident.Headers[h] = ""
		}
		s.accept(ident, true)
		return
	}
	s.refuse(e)
}

func (s *session) accept(ident *Identity, anonymous bool) {
	var consumer *Consumer
	if ident.Virtual != nil {
		consumer = ident.Virtual
	} else if ident.Consumer != "" {
		c, err := loadConsumer(s.kong, s.req.meta.workspace(), ident.Consumer)
		if err != nil {
			s.refuse(errcode.Wrap(errcode.InternalError, fmt.Errorf("load consumer %q: %w", ident.Consumer, err)))
			return
		}
		if c == nil && !(ident.ConsumerOptional && !anonymous) {
			what := "consumer"
			if anonymous {
				what = "anonymous consumer"
			}
			s.refuse(errcode.New(errcode.ConsumerNotFound, "%s %q does not exist in Kong", what, ident.Consumer).With("consumer", ident.Consumer))
			return
		}
		consumer = c
	}
	if consumer == nil && ident.CredentialID == "" {
		s.refuse(errcode.New(errcode.InternalError, "identity without consumer or credential"))
		return
	}
	if err := s.kong.Authenticate(consumer, ident.CredentialID); err != nil {
		s.refuse(errcode.Wrap(errcode.InternalError, fmt.Errorf("kong.client.authenticate: %w", err)))
		return
	}

	h := make(map[string]string, 5+len(ident.Headers))
	for k, v := range ident.Headers {
		h[k] = v
	}
	h[HeaderConsumerID], h[HeaderConsumerCustomID], h[HeaderConsumerUsername] = "", "", ""
	if consumer != nil {
		h[HeaderConsumerID] = consumer.ID
		h[HeaderConsumerCustomID] = consumer.CustomID
		h[HeaderConsumerUsername] = consumer.Username
	}
	h[HeaderCredentialIdentity] = ident.CredentialID
	h[HeaderAnonymousConsumer] = ""
	if anonymous {
		h[HeaderAnonymousConsumer] = "true"
	}
	for k, v := range h {
		h[k] = HeaderValue(v) // a value that cannot be sent as is is removed, never altered
	}
	if err := s.kong.SetUpstreamHeaders(h); err != nil {
		s.refuse(errcode.Wrap(errcode.InternalError, fmt.Errorf("set upstream headers: %w", err)))
		return
	}
	if ident.RawQuery != nil {
		if err := s.kong.SetUpstreamRawQuery(*ident.RawQuery); err != nil {
			s.refuse(errcode.Wrap(errcode.InternalError, err))
			return
		}
	}
	if ident.Body != nil {
		if err := s.kong.SetUpstreamBody(ident.Body); err != nil {
			s.refuse(errcode.Wrap(errcode.InternalError, err))
			return
		}
	}
	for name, v := range ident.ResponseHeaders {
		if v = HeaderValue(v); v != "" {
			_ = s.kong.SetResponseHeader(name, v)
		}
	}
	if !anonymous {
		s.decide(errcode.OutcomeAccepted, "")
	}
	if ident.Warning != nil {
		rec := s.record(ident.Warning)
		rec.Outcome = string(errcode.OutcomeAccepted)
		_ = s.kong.Log("warn", rec.Line())
		s.metrics().Warning(ident.Warning.Code)
	}
}

// refuse answers the client with the code's status, fixed message and
// challenge, after one log line and the serialize value. It is the only
// place that calls Exit, and nothing runs after it.
func (s *session) refuse(e *errcode.Error) {
	if s.exited {
		return
	}
	ent := e.Code.Entry()
	s.decide(errcode.OutcomeRefused, ent.Code)
	rec := s.record(e)
	level := ent.LogLevel()
	if ent.Class == errcode.ClassClient && s.policy.LogLevel != "" {
		level = s.policy.LogLevel
	}
	if ent.Code == errcode.ConfigInvalid {
		// A broken config, or a broken credentials_file: the same cause
		// for every request until an operator acts (refusallog.go).
		s.gate = s.req.meta.gate()
	}
	s.logRefusal(level, rec)
	_ = s.kong.SetSerializeValue("authkit", rec.Serialized())

	body := ClientBody(ent)
	if s.policy.Body != nil {
		body = s.policy.Body(ent, e)
	}
	headers := map[string][]string{"Content-Type": {"application/json; charset=utf-8"}}
	switch {
	case s.policy.Challenges != nil:
		if c := s.policy.Challenges(e); len(c) > 0 {
			// One value with the challenges comma-separated (RFC 9110
			// §11.6.1: WWW-Authenticate = #challenge): Kong 3.9.3 passes
			// only the last of several WWW-Authenticate lines given to
			// kong.response.exit (docs/kong-behaviour.md).
			headers["WWW-Authenticate"] = []string{strings.Join(c, ", ")}
		}
	case s.policy.Challenge != nil:
		if c := s.policy.Challenge(e); c != "" {
			headers["WWW-Authenticate"] = []string{c}
		}
	}
	for k, v := range e.Headers() {
		headers[k] = []string{v}
	}
	s.exited = true
	s.count()
	s.kong.Exit(ent.Status, body, headers)
}

// recover turns a panic into a 500 INTERNAL_ERROR so the plugin process,
// and every request in flight on it, survives (go-pdk has no recover).
func (s *session) recover() {
	p := recover()
	if p == nil {
		return
	}
	stack := string(debug.Stack())
	if len(stack) > 2048 {
		stack = stack[:2048]
	}
	e := errcode.New(errcode.InternalError, "panic: %v", p).With("stack", strings.ReplaceAll(stack, "\n", " | "))
	if s.exited {
		return
	}
	func() {
		defer func() { _ = recover() }() // the connection may be gone
		s.refuse(e)
	}()
}
