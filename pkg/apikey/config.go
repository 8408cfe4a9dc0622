package apikey

import (
	"errors"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// PluginName is the authkit-key plugin's name (= its binary's name).
const PluginName = "authkit-key"

// Config is authkit-key's configuration, exactly as kong.yaml spells it.
// Field names and defaults follow Kong's key-auth where they overlap, so a
// key-auth user keeps their habits. A field's default is its `default` tag
// (kongschema.ApplyDefaults), read by Compile, the README and Kong's schema
// alike.
type Config struct {
	// KeyNames are the header, query and body parameter names the key is looked for under, in order.
	KeyNames []string `json:"key_names" default:"apikey" len_min:"1"`
	// KeyInHeader looks for the key in request headers.
	KeyInHeader *bool `json:"key_in_header" default:"true"`
	// KeyInQuery looks for the key in the query string.
	KeyInQuery *bool `json:"key_in_query" default:"true"`
	// KeyInBody looks for the key in form-urlencoded and JSON bodies (at most 1 MiB).
	KeyInBody bool `json:"key_in_body" default:"false"`
	// HideCredentials removes the key from wherever it was found (header, query or body) before proxying.
	HideCredentials bool `json:"hide_credentials" default:"false"`
	// Anonymous is the consumer (username or id) to use when authentication fails; empty refuses the request.
	Anonymous string `json:"anonymous" default:"" len_min:"0"`
	// RunOnPreflight authenticates CORS preflight (OPTIONS) requests too.
	RunOnPreflight *bool `json:"run_on_preflight" default:"true"`
	// Realm is sent in `WWW-Authenticate: Key realm="…"` (bare `Key` when empty).
	Realm string `json:"realm" default:"" len_min:"0"`
	// LogLevel is the Kong log level of client refusals (debug, info, notice, warn, err, crit, alert); provider and gateway failures are always logged at err.
	LogLevel *string `json:"log_level" default:"notice" one_of:"debug,info,notice,warn,err,crit,alert"`
	// Credentials lists the keys: id, consumer, key_hash ("sha256:<hex>") and an optional RFC 3339 expires_at. Several keys may map to one consumer (rotation).
	Credentials []Credential `json:"credentials" default:""`
	// CredentialsFile is a JSON or YAML file with more credentials (a list, or {"credentials": [...]}), re-read when it changes; empty is none.
	CredentialsFile string `json:"credentials_file" default:"" len_min:"0"`
}

// KongSchema adds what the tags cannot say (kongschema.Schemer): the
// key_hash pattern and the rule across fields. Kong enforces them, and so
// does Compile.
func (Config) KongSchema(rec *kongschema.Field) {
	rec.EntityChecks = append(rec.EntityChecks, kongschema.EntityCheck{AtLeastOneOf: []string{"credentials", "credentials_file"}})
	rec.Lookup("credentials").Elements.Lookup("key_hash").MatchAll = []kongschema.MatchRule{{
		Pattern: "^sha256:" + strings.Repeat("%x", 64) + "$",
		Err:     hashFormat + " (a plaintext key is not accepted; hash it with `authkit hash key`)",
	}}
}

// Compile applies the defaults and Kong's schema (kongschema.Checked),
// then what Kong cannot check: where keys are looked for, expiry times,
// duplicate ids and keys.
func (c *Config) Compile() (*Authenticator, error) {
	cfg, err := kongschema.Checked(c)
	if err != nil {
		return nil, err
	}
	return cfg.compile()
}

func (c *Config) compile() (*Authenticator, error) {
	names := c.KeyNames
	var errs []error
	inHeader, inQuery := *c.KeyInHeader, *c.KeyInQuery
	if !inHeader && !inQuery && !c.KeyInBody {
		errs = append(errs, errors.New("key_in_header, key_in_query, key_in_body: at least one must be true"))
	}
	store, err := CompileCredentials("credentials", c.Credentials)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a := &Authenticator{
		names: names, inHeader: inHeader, inQuery: inQuery, inBody: c.KeyInBody,
		hide:   c.HideCredentials,
		static: store,
		policy: &gateway.Policy{
			Plugin:         PluginName,
			Anonymous:      c.Anonymous,
			RunOnPreflight: *c.RunOnPreflight,
			LogLevel:       *c.LogLevel,
			Challenge:      gateway.KeyChallenge(c.Realm),
		},
	}
	if inQuery {
		a.policy.Prefetch |= gateway.FactRawQuery
	}
	if c.CredentialsFile != "" {
		a.file = credfile.WatchList(c.CredentialsFile, func(field string, creds []Credential) (*Store, error) {
			return Merge(store, field, creds)
		})
	}
	return a, nil
}
