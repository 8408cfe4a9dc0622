// Package gateway is the only package of kong-authkit (besides the thin
// plugin mains) that talks to Kong through go-pdk. It turns an
// Authenticator's verdict into what Kong must do: refuse with a catalog code
// (status, WWW-Authenticate, JSON body, one `authkit {…}` log line, the
// `authkit` serialize value for file-log/http-log), or accept (consumer
// mapping, kong.client.authenticate, the X-Consumer-* headers). The one
// exception to a line per refusal is CONFIG_INVALID: one line per 10 s per
// config and route, with the count of the refusals it stands for
// (refusallog.go).
//
// Every PDK call is a socket round trip to Kong costing tens of
// microseconds (kong-go-plugins.md §3.3, §6), more than the crypto on a
// cached path. The package therefore makes as few calls as it can and
// routes every call through one interface, Kong (kong.go: one method, one
// call), so the count is known; over the project's plugin server the
// reads of a request go in one batch and the calls that answer nothing are
// deferred (pipelined.go, docs/plugin-server.md):
//
//	success:  get_headers, authenticate, service.request.set_headers  (3)
//	refusal:  get_headers, log.<level>, log.set_serialize_value, exit (4)
//
// plus one call for get_credential when `anonymous` is set, one for
// get_method when `run_on_preflight` is false (a preflight let through
// then costs get_method, get_credential and the set_headers that clears the
// identity headers), and load_consumer on a
// consumer-cache miss.
package gateway
