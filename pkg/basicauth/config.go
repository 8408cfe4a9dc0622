package basicauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// PluginName is the authkit-basic plugin's name (= its binary's name).
const PluginName = "authkit-basic"

// Config is authkit-basic's configuration, exactly as kong.yaml spells it.
// The plugin binary serves it through gateway.NewPlugin, and Kong's schema
// is reflected from these fields (go-pdk's rules: the json tag is the field
// name; no omitempty; only string/bool/int/slice/map/struct types). A
// field's default is its `default` tag (kongschema.ApplyDefaults), read by
// Compile, the README and Kong's schema alike.
type Config struct {
	// Realm is sent in `WWW-Authenticate: Basic realm="…", charset="UTF-8"`.
	Realm *string `json:"realm" default:"service" len_min:"0"`
	// HideCredentials removes the Authorization (or Proxy-Authorization) header before proxying.
	HideCredentials bool `json:"hide_credentials" default:"false"`
	// Anonymous is the consumer (username or id) to use when authentication fails; empty refuses the request.
	Anonymous string `json:"anonymous" default:"" len_min:"0"`
	// RunOnPreflight authenticates CORS preflight (OPTIONS) requests too.
	RunOnPreflight *bool `json:"run_on_preflight" default:"true"`
	// LogLevel is the Kong log level of client refusals (debug, info, notice, warn, err, crit, alert); provider and gateway failures are always logged at err.
	LogLevel *string `json:"log_level" default:"notice" one_of:"debug,info,notice,warn,err,crit,alert"`
	// Credentials lists the users: username, password_hash (bcrypt, argon2id or PBKDF2-SHA256; plaintext is refused) and the Kong consumer to map to.
	Credentials []Credential `json:"credentials" default:""`
	// CredentialsFile is a JSON or YAML file with more credentials (a list, or {"credentials": [...]}), re-read when it changes; empty is none.
	CredentialsFile string `json:"credentials_file" default:"" len_min:"0"`
	// CacheTTLSeconds is how long a verified password stays cached (as a SHA-256 of the inputs, never the password); 0 disables the cache.
	CacheTTLSeconds *int `json:"cache_ttl_seconds" default:"300" between:"0,2147483647"`
	// MaxFailures locks a username out for one client IP after this many wrong passwords within lockout_seconds; attempts being verified count too, so no more than this many wrong passwords are ever hashed per user, client IP and window; 0 disables the lockout.
	MaxFailures int `json:"max_failures" required:"true" default:"0" between:"0,2147483647"`
	// LockoutSeconds is the window failures are counted in, and how long a locked pair stays locked; 0 is off.
	LockoutSeconds int `json:"lockout_seconds" required:"true" default:"0" between:"0,2147483647"`
	// Policy is where the lockout counters live: "local" (each plugin process counts alone) or "redis" (one count for every gateway node sharing the Redis and key_prefix).
	Policy *string `json:"policy" required:"true" default:"local" one_of:"local,redis"`
	// Redis is the Redis used with policy redis. Default: {} (unused with policy local).
	Redis redisstore.Config `json:"redis"`
	// FaultTolerant decides what happens when Redis fails or times out: true continues with process-local counters and logs one warn line per outage (REDIS_UNAVAILABLE, outcome accepted); false refuses with 503 REDIS_UNAVAILABLE.
	FaultTolerant *bool `json:"fault_tolerant" default:"true"`
}

// KongSchema adds the rules across fields to the schema the tags give
// (kongschema.Schemer): Kong enforces them, and so does Compile.
func (Config) KongSchema(rec *kongschema.Field) {
	positive := &kongschema.Field{Gt: kongschema.Ptr(0.0)}
	both := "max_failures and lockout_seconds: set both to enable the lockout, or neither"
	rec.EntityChecks = append(rec.EntityChecks,
		kongschema.EntityCheck{AtLeastOneOf: []string{"credentials", "credentials_file"}},
		kongschema.EntityCheck{Conditional: &kongschema.Conditional{IfField: "max_failures", IfMatch: positive,
			ThenField: "lockout_seconds", ThenMatch: positive, ThenErr: both}},
		kongschema.EntityCheck{Conditional: &kongschema.Conditional{IfField: "lockout_seconds", IfMatch: positive,
			ThenField: "max_failures", ThenMatch: positive, ThenErr: both}},
		redisstore.PolicyCheck,
	)
}

// Compile applies the defaults and Kong's schema (kongschema.Checked),
// then what Kong cannot check: the password hashes, duplicate users.
func (c *Config) Compile() (*Authenticator, error) {
	cfg, err := kongschema.Checked(c)
	if err != nil {
		return nil, err
	}
	return cfg.compile()
}

func (c *Config) compile() (*Authenticator, error) {
	realm, runOnPreflight, ttl := *c.Realm, *c.RunOnPreflight, *c.CacheTTLSeconds
	store, credErr := CompileCredentials("credentials", c.Credentials)
	shared, redisErr := redisstore.Compile(*c.Policy, c.Redis, c.FaultTolerant)
	if err := errors.Join(credErr, redisErr); err != nil {
		return nil, err
	}
	a := &Authenticator{
		static:  store,
		hide:    c.HideCredentials,
		cache:   newVerifiedCache(time.Duration(ttl) * time.Second),
		lockout: NewLockout(c.MaxFailures, time.Duration(c.LockoutSeconds)*time.Second),
		policy: &gateway.Policy{
			Plugin:         PluginName,
			Anonymous:      c.Anonymous,
			RunOnPreflight: runOnPreflight,
			LogLevel:       *c.LogLevel,
			Challenge:      gateway.BasicChallenge(realm),
			Warnings:       store.warnings("credentials"),
		},
	}
	if a.lockout != nil {
		a.policy.Prefetch |= gateway.FactClientIP
	}
	if shared.Redis != nil {
		a.policy.Warnings = append(a.policy.Warnings, shared.Warnings()...)
		if a.lockout == nil {
			a.policy.Warnings = append(a.policy.Warnings, "policy: redis shares only the lockout, and max_failures is 0: Redis is not used")
		} else {
			rs, err := redisstore.New(shared)
			if err != nil {
				return nil, err
			}
			a.shared = newSharedLockout(rs, a.lockout)
		}
	}
	if c.CredentialsFile != "" {
		a.file = credfile.WatchList(c.CredentialsFile, func(field string, creds []Credential) (*Store, error) {
			return Merge(store, field, creds)
		})
	}
	return a, nil
}

// String renders the config for debugging without any hash or password.
func (c *Config) String() string {
	cp := *c
	cp.Credentials = nil
	if cp.Redis.Password != "" {
		cp.Redis.Password = "[redacted]"
	}
	b, _ := json.Marshal(&cp)
	return fmt.Sprintf("%s (+%d credentials)", b, len(c.Credentials))
}
