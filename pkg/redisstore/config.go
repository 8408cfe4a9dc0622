// Package redisstore keeps the authkit plugins' cluster-wide state in Redis
// (policy: redis): the Basic lockout counters, the shared introspection
// answers and a "seen once" replay set, so that several gateway nodes
// enforce one limit and share one cache. It talks to a single Redis, a
// Sentinel set or a Redis Cluster through go-redis's UniversalClient.
//
// Nothing secret reaches Redis in the clear: keys carry only hashes (the
// callers hash user names, client addresses and tokens before they ask),
// and the values are counters, timestamps and introspection claims.
//
// When Redis fails or does not answer within timeout_ms, a fault-tolerant
// store tells its caller to continue with process-local state and reports
// the outage once (a warn line with code REDIS_UNAVAILABLE); a strict one
// returns REDIS_UNAVAILABLE, which the plugins answer with 503.
package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// Policies.
const (
	PolicyLocal = "local"
	PolicyRedis = "redis"
)

// Defaults of the redis record.
const (
	DefaultPort      = 6379
	DefaultTimeoutMS = 200
	DefaultKeyPrefix = "authkit:"
	// MaxTimeoutMS bounds timeout_ms: a Redis slower than this is down for
	// an authentication path.
	MaxTimeoutMS = 10_000
)

// Config is the `redis` record of a plugin config, exactly as kong.yaml
// spells it. Exactly one of host, sentinel_master (with sentinel_nodes) and
// cluster_nodes names the servers.
type Config struct {
	// Host is the address of a single Redis server (name or IP); set exactly one of host, sentinel_master with sentinel_nodes, and cluster_nodes.
	Host string `json:"host" default:"" len_min:"0"`
	// Port is the port of host.
	Port *int `json:"port" default:"6379" between:"1,65535"`
	// Username is the Redis 6+ ACL user; empty authenticates as the default user.
	Username string `json:"username" default:"" len_min:"0"`
	// Password authenticates to Redis (and to the Sentinels); a {vault://…} reference (resolved by Kong) or password_env keeps it out of kong.yaml.
	Password string `json:"password" default:"" len_min:"0" referenceable:"true"`
	// PasswordEnv names an environment variable of the plugin process holding the password. Kong passes no environment to plugin processes: list the variable in KONG_NGINX_MAIN_ENV (see README, Running several gateway nodes).
	PasswordEnv string `json:"password_env" default:"" len_min:"0" match_any:"^$|^[%a_][%w_]*$" match_err:"must be an environment variable name (letters, digits, underscores)"`
	// Database is the Redis database number (single server and Sentinel only; a Cluster has only database 0).
	Database *int `json:"database" default:"0" between:"0,2147483647"`
	// SSL connects with TLS.
	SSL bool `json:"ssl" default:"false"`
	// SSLVerify checks the server's certificate against the system's CAs (with ssl).
	SSLVerify *bool `json:"ssl_verify" default:"true"`
	// ServerName is the TLS server name (SNI and certificate check); empty uses the host.
	ServerName string `json:"server_name" default:"" len_min:"0"`
	// TimeoutMS bounds each Redis operation (connect, command, answer); a request never waits longer for Redis.
	TimeoutMS *int `json:"timeout_ms" default:"200" between:"1,10000"`
	// SentinelMaster is the master name the Sentinels monitor; set with sentinel_nodes.
	SentinelMaster string `json:"sentinel_master" default:"" len_min:"0"`
	// SentinelNodes are the Sentinels, as host:port.
	SentinelNodes []string `json:"sentinel_nodes" default:""`
	// ClusterNodes are seed nodes of a Redis Cluster, as host:port.
	ClusterNodes []string `json:"cluster_nodes" default:""`
	// KeyPrefix starts every key authkit writes, so an ACL can confine the gateway to it (~authkit:*).
	KeyPrefix *string `json:"key_prefix" default:"authkit:" match_none:"[ {}\r\n]" match_err:"must be without spaces or braces (braces are Redis Cluster hash tags)"`

	// passwordRef is set when Kong resolved password from a vault
	// reference (Kong lists the record's references in "$refs").
	passwordRef bool
}

// UnmarshalJSON decodes the record, noting from Kong's "$refs" whether
// the password came from a vault reference.
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config
	var aux struct {
		plain
		Refs map[string]any `json:"$refs"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = Config(aux.plain)
	_, c.passwordRef = aux.Refs["password"]
	return nil
}

// KongSchema adds the record's rule across fields (kongschema.Schemer).
// Kong enforces it whatever the policy; so does the plugins' compile,
// which applies Kong's schema first.
func (Config) KongSchema(rec *kongschema.Field) {
	rec.EntityChecks = append(rec.EntityChecks, kongschema.EntityCheck{MutuallyExclusive: []string{"password", "password_env"}})
}

// PolicyCheck is the rule across a plugin's policy and redis fields that
// Kong can express: with policy redis, the record names the servers.
// (That it names exactly one kind, and well, is Compile's business.)
var PolicyCheck = kongschema.EntityCheck{ConditionalAtLeastOneOf: &kongschema.ConditionalAtLeastOneOf{
	IfField: "policy", IfMatch: &kongschema.Field{OneOf: []any{PolicyRedis}},
	ThenAtLeastOneOf: []string{"redis.host", "redis.sentinel_nodes", "redis.cluster_nodes"},
	ThenErr:          "policy redis: set redis.host, redis.sentinel_nodes (with redis.sentinel_master) or redis.cluster_nodes",
}}

// Settings is a validated policy: Redis nil means policy local.
type Settings struct {
	// Redis is the compiled connection; nil with policy local.
	Redis *Conn
	// Prefix starts every key.
	Prefix string
	// Timeout bounds each operation.
	Timeout time.Duration
	// FaultTolerant continues with local state when Redis fails.
	FaultTolerant bool
}

// Conn is everything that identifies one Redis connection pool. Configs
// with equal Conns share one pool (Client).
type Conn struct {
	Addrs          []string // host:port of the server, the sentinels or the cluster seeds
	Mode           string   // "single", "sentinel" or "cluster"
	SentinelMaster string
	Username       string
	Password       string
	PasswordEnv    string
	passwordRef    bool // Password is a vault reference, or was resolved from one
	Database       int
	SSL            bool
	SSLVerify      bool
	ServerName     string
	Timeout        time.Duration
}

// Connection modes.
const (
	ModeSingle   = "single"
	ModeSentinel = "sentinel"
	ModeCluster  = "cluster"
)

// Compile validates policy, the redis record and fault_tolerant, naming
// each field in its errors ("redis.port: …"). With policy local the redis
// record is ignored (it may be left as Kong expands it, all null).
func Compile(policy string, c Config, faultTolerant *bool) (*Settings, error) {
	s := &Settings{FaultTolerant: faultTolerant == nil || *faultTolerant}
	switch policy {
	case "", PolicyLocal:
		return s, nil
	case PolicyRedis:
	default:
		return nil, fmt.Errorf("policy: %q is not local or redis", policy)
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	conn := &Conn{Username: c.Username, Password: c.Password, PasswordEnv: c.PasswordEnv, SSL: c.SSL,
		passwordRef: c.passwordRef || kongschema.IsReference(c.Password),
		SSLVerify:   c.SSLVerify == nil || *c.SSLVerify, ServerName: c.ServerName, SentinelMaster: c.SentinelMaster}
	kinds := 0
	if c.Host != "" {
		kinds++
	}
	if c.SentinelMaster != "" || len(c.SentinelNodes) > 0 {
		kinds++
	}
	if len(c.ClusterNodes) > 0 {
		kinds++
	}
	if kinds != 1 {
		fail("redis: set exactly one of host, sentinel_master with sentinel_nodes, and cluster_nodes (got %d)", kinds)
	}
	port := DefaultPort
	if c.Port != nil {
		port = *c.Port
	}
	if port < 1 || port > 65535 {
		fail("redis.port: must be between 1 and 65535, got %d", port)
	}
	switch {
	case c.Host != "":
		conn.Mode = ModeSingle
		if strings.ContainsAny(c.Host, " /:") && net.ParseIP(c.Host) == nil {
			fail("redis.host: %q is not a host name or IP address (give the port in redis.port)", c.Host)
		}
		conn.Addrs = []string{net.JoinHostPort(c.Host, strconv.Itoa(port))}
	case len(c.ClusterNodes) > 0:
		conn.Mode = ModeCluster
		conn.Addrs = checkNodes("redis.cluster_nodes", c.ClusterNodes, fail)
	default:
		conn.Mode = ModeSentinel
		if c.SentinelMaster == "" {
			fail("redis.sentinel_master: required with sentinel_nodes")
		}
		if len(c.SentinelNodes) == 0 {
			fail("redis.sentinel_nodes: at least one host:port is required with sentinel_master")
		}
		conn.Addrs = checkNodes("redis.sentinel_nodes", c.SentinelNodes, fail)
	}
	if c.Database != nil {
		conn.Database = *c.Database
	}
	if conn.Database < 0 {
		fail("redis.database: must be ≥ 0, got %d", conn.Database)
	}
	if conn.Database != 0 && conn.Mode == ModeCluster {
		fail("redis.database: a Redis Cluster has only database 0, got %d", conn.Database)
	}
	if c.Password != "" && c.PasswordEnv != "" {
		fail("redis.password and redis.password_env: set one, not both")
	}
	if c.PasswordEnv != "" && !envName(c.PasswordEnv) {
		fail("redis.password_env: %q is not an environment variable name (letters, digits, underscores)", c.PasswordEnv)
	}
	if !c.SSL && (c.ServerName != "" || c.SSLVerify != nil && !*c.SSLVerify) {
		fail("redis.server_name and redis.ssl_verify: only with redis.ssl true")
	}
	timeout := DefaultTimeoutMS
	if c.TimeoutMS != nil {
		timeout = *c.TimeoutMS
	}
	if timeout < 1 || timeout > MaxTimeoutMS {
		fail("redis.timeout_ms: must be between 1 and %d, got %d", MaxTimeoutMS, timeout)
	}
	conn.Timeout = time.Duration(timeout) * time.Millisecond
	s.Timeout = conn.Timeout
	s.Prefix = DefaultKeyPrefix
	if c.KeyPrefix != nil {
		s.Prefix = *c.KeyPrefix
	}
	if s.Prefix == "" || strings.ContainsAny(s.Prefix, " {}\r\n") {
		fail("redis.key_prefix: %q must be non-empty, without spaces or braces (braces are Redis Cluster hash tags)", s.Prefix)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.Redis = conn
	return s, nil
}

func checkNodes(field string, nodes []string, fail func(string, ...any)) []string {
	out := make([]string, 0, len(nodes))
	for i, n := range nodes {
		host, p, err := net.SplitHostPort(n)
		port, perr := strconv.Atoi(p)
		if err != nil || host == "" || perr != nil || port < 1 || port > 65535 {
			fail("%s[%d]: %q is not host:port with a port between 1 and 65535", field, i, n)
			continue
		}
		out = append(out, n)
	}
	return out
}

func envName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// Warnings are the settings' weaknesses that do not stop the config from
// working (authkit check prints them; the plugin logs them once).
func (s *Settings) Warnings() []string {
	if s.Redis == nil {
		return nil
	}
	var w []string
	if s.Redis.Password != "" && !s.Redis.passwordRef {
		w = append(w, "redis.password: the password sits in the config (and in Kong's database or kong.yaml); prefer a {vault://…} reference or redis.password_env")
	}
	if s.Redis.SSL && !s.Redis.SSLVerify {
		w = append(w, "redis.ssl_verify: false accepts any certificate, so anyone on the path can read and forge the shared state")
	}
	return w
}
