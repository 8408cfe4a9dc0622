package apikey

import (
	"errors"
	"fmt"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// PluginName is the authkit-key plugin's name (= its binary's name).
const PluginName = "authkit-key"

// Config is authkit-key's configuration, exactly as kong.yaml spells it.
// Field names and defaults follow Kong's key-auth where they overlap, so a
// key-auth user keeps their habits.
type Config struct {
	// KeyNames are the header, query and body parameter names the key is looked for under, in order. Default: ["apikey"].
	KeyNames []string `json:"key_names"`
	// KeyInHeader looks for the key in request headers. Default: true.
	KeyInHeader *bool `json:"key_in_header"`
	// KeyInQuery looks for the key in the query string. Default: true.
	KeyInQuery *bool `json:"key_in_query"`
	// KeyInBody looks for the key in form-urlencoded and JSON bodies (at most 1 MiB). Default: false.
	KeyInBody bool `json:"key_in_body"`
	// HideCredentials removes the key from wherever it was found (header, query or body) before proxying. Default: false.
	HideCredentials bool `json:"hide_credentials"`
	// Anonymous is the consumer (username or id) to use when authentication fails; empty refuses the request. Default: "".
	Anonymous string `json:"anonymous"`
	// RunOnPreflight authenticates CORS preflight (OPTIONS) requests too. Default: true.
	RunOnPreflight *bool `json:"run_on_preflight"`
	// Realm is sent in `WWW-Authenticate: Key realm="…"` (bare `Key` when empty). Default: "".
	Realm string `json:"realm"`
	// LogLevel is the Kong log level of client refusals (debug, info, notice, warn, err, crit, alert); provider and gateway failures are always logged at err. Default: "notice".
	LogLevel string `json:"log_level"`
	// Credentials lists the keys: id, consumer, key_hash ("sha256:<hex>") and an optional RFC 3339 expires_at. Several keys may map to one consumer (rotation). Default: [].
	Credentials []Credential `json:"credentials"`
	// CredentialsFile is a JSON or YAML file with more credentials (a list, or {"credentials": [...]}), re-read when it changes. Default: "" (none).
	CredentialsFile string `json:"credentials_file"`
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// Compile applies defaults and validates every field, naming it.
func (c *Config) Compile() (*Authenticator, error) {
	names := c.KeyNames
	if names == nil {
		names = []string{"apikey"}
	}
	var errs []error
	if len(names) == 0 {
		errs = append(errs, errors.New("key_names: at least one name is required"))
	}
	for i, n := range names {
		if n == "" {
			errs = append(errs, fmt.Errorf("key_names[%d]: must not be empty", i))
		}
	}
	inHeader, inQuery := boolOr(c.KeyInHeader, true), boolOr(c.KeyInQuery, true)
	if !inHeader && !inQuery && !c.KeyInBody {
		errs = append(errs, errors.New("key_in_header, key_in_query, key_in_body: at least one must be true"))
	}
	if err := gateway.CheckLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if len(c.Credentials) == 0 && c.CredentialsFile == "" {
		errs = append(errs, errors.New("credentials: at least one credential or a credentials_file is required"))
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
			RunOnPreflight: boolOr(c.RunOnPreflight, true),
			LogLevel:       c.LogLevel,
			Challenge:      gateway.KeyChallenge(c.Realm),
		},
	}
	if inQuery {
		a.policy.Prefetch |= gateway.FactRawQuery
	}
	if c.CredentialsFile != "" {
		a.file = credfile.Watch(c.CredentialsFile, func(b []byte) (*Store, error) {
			creds, err := credfile.Decode[Credential](b)
			if err != nil {
				return nil, err
			}
			return Merge(store, "credentials_file", creds)
		})
	}
	return a, nil
}
