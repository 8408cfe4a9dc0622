package main

import (
	"strings"
	"testing"
)

// TestCheckRedisRecord: the redis record is judged offline — Kong's schema
// (types, unknown fields, ports, timeouts) and the plugin's rules (exactly
// one of host, sentinel and cluster) — each problem at its field.
func TestCheckRedisRecord(t *testing.T) {
	doc := `_format_version: "3.0"
plugins:
- name: authkit-basic
  config:
    credentials:
    - {username: a, password_hash: "$2a$10$e.yDTILKEkDH/FLXLK2zZuyj8AeiQZn1RF8oImGSgzQlfGlK.ySw.", consumer: alice}
    max_failures: 3
    lockout_seconds: 60
    policy: redis
    redis:
      host: redis.internal
      port: 70000
      timeout_ms: 0
      cluster_nodes: ["a:1"]
- name: authkit-oauth
  config:
    introspection_endpoint: https://idp.example/introspect
    introspection_client_id: gw
    policy: redis
    redis:
      sentinel_master: m
      sentinel_nodes: ["s1"]
      password: in-the-clear
      hostname: typo
- name: authkit-oauth
  config:
    introspection_endpoint: https://idp.example/introspect
    introspection_client_id: gw
    policy: redis
    redis: {host: redis.internal, password: in-the-clear}
- name: authkit-oauth
  config:
    introspection_endpoint: https://idp.example/introspect
    introspection_client_id: gw
    policy: redis
    redis: {host: redis.internal, cluster_nodes: ["a:1"], password: "{vault://env/redis-pw}"}
`
	ps, _, code := checkJSON(t, writeTemp(t, "kong.yaml", doc))
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Severity+" "+p.Path+" "+p.Field+": "+p.Message)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"error plugins[0] config.redis.port: value should be between 1 and 65535 (Kong refuses the config at start-up)",
		"error plugins[0] config.redis.timeout_ms: value should be between 1 and 10000 (Kong refuses the config at start-up)",
		"error plugins[3] config.redis: set exactly one of host, sentinel_master with sentinel_nodes, and cluster_nodes (got 2)",
		"error plugins[1] config.redis.hostname: unknown field (Kong refuses the config at start-up)",
		"warning plugins[2] config.redis.password: the password sits in the config",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
	// A vault reference is not a password in the config.
	if strings.Contains(all, "warning plugins[3]") {
		t.Errorf("a warning for plugins[3]'s vault reference:\n%s", all)
	}
}
