// Package metrics is kong-authkit's Prometheus instrumentation: one
// process-wide registry, the authkit_* metrics every plugin process
// records, and the /metrics listener a plugin process starts with
// -metrics-listen or AUTHKIT_METRICS_LISTEN.
//
// Recording is off until Enable: every Record/Observe function starts with
// one atomic load and returns, so the plugins pay nothing measurable when
// no listener was asked for. Once on, the hot paths use counters resolved
// ahead of time (per route, outcome and code; per cache; per phase), not a
// label lookup per request.
//
// Label values are bounded by construction: plugin names and route ids come
// from Kong's configuration (gateway.Meta), outcomes from
// errcode.Outcomes, codes from the catalog (an unknown code is counted as
// INTERNAL_ERROR), endpoints, caches and phases from fixed lists here.
// Nothing a client sends — a user, a key, a token, a header — becomes a
// label value.
package metrics
