package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

// Issue 17: Kong applies authkit's defaults, validates its configs by the
// schema each plugin's -dump generates from its Go config, and resolves
// vault references; `authkit schema --lua` gives the same schema to a
// control plane.

// minimal is each plugin's smallest valid config: only what it requires.
func minimal(t testing.TB) map[string]obj {
	return map[string]obj{
		"authkit-basic":         {"credentials": []any{obj{"username": "alice", "password_hash": bcryptHash(t, alicePassword), "consumer": "alice"}}},
		"authkit-key":           {"credentials": []any{obj{"id": "k", "consumer": "alice", "key_hash": sha256Key(aliceKey)}}},
		"authkit-oauth":         {"issuer": "https://idp.example.test"},
		"authkit-oauth-explain": {},
	}
}

// schemaCase is one config, the plugin's minimal config with Set's fields
// set (a nil value is JSON null) and Drop's removed. Want are the errors
// Kong gives, as "field|message" in POST /config's flattened form (field
// config.a.1.b, 1-based; an entity check's error has no field); nil:
// Kong accepts it. Doc marks a rule of the JSON document that a decoded Go
// struct cannot show (an unknown field, null): Kong and `authkit check`
// refuse it, the plugin never receives it.
type schemaCase struct {
	plugin string
	set    obj
	drop   []string
	want   []string
	doc    bool
}

const (
	levels   = "expected one of: debug, info, notice, warn, err, crit, alert"
	maxInt   = "value should be between 0 and 2147483647"
	atLeast1 = "length must be at least 1"
	absURL   = "must be an absolute http(s) URL"
)

// schemaCases covers each rule of the generated schemas: one_of, between,
// len_min, match_none / match_all / match_any, required (in records in
// arrays, and on an entity check's if_field), unknown fields, types, and
// each entity check; then configs at the edges that both accept.
var schemaCases = []schemaCase{
	// authkit-basic
	{plugin: "authkit-basic", set: obj{"log_level": "loud"}, want: []string{"config.log_level|" + levels}},
	// max_failures' between error is replaced by the conditional's (Kong's set_field).
	{plugin: "authkit-basic", set: obj{"max_failures": -3, "lockout_seconds": 60}, want: []string{"config.max_failures|value must be greater than 0",
		"|max_failures and lockout_seconds: set both to enable the lockout, or neither"}},
	{plugin: "authkit-basic", set: obj{"max_failures": -3}, want: []string{"config.max_failures|" + maxInt}},
	{plugin: "authkit-basic", set: obj{"cache_ttl_seconds": -1}, want: []string{"config.cache_ttl_seconds|" + maxInt}},
	{plugin: "authkit-basic", set: obj{"max_failures": 3}, want: []string{"config.lockout_seconds|value must be greater than 0",
		"|max_failures and lockout_seconds: set both to enable the lockout, or neither"}},
	{plugin: "authkit-basic", set: obj{"lockout_seconds": 60}, want: []string{"config.max_failures|value must be greater than 0",
		"|max_failures and lockout_seconds: set both to enable the lockout, or neither"}},
	{plugin: "authkit-basic", set: obj{"max_failures": nil}, want: []string{"config.max_failures|required field missing"}, doc: true},
	{plugin: "authkit-basic", drop: []string{"credentials"}, want: []string{"|at least one of these fields must be non-empty: 'credentials', 'credentials_file'"}},
	{plugin: "authkit-basic", set: obj{"credentials": []any{obj{"username": "a:b", "password_hash": "$2b$04$x", "consumer": "c"}, obj{"username": "", "password_hash": "h"}}},
		want: []string{"config.credentials.1.username|must not contain a colon or control characters (RFC 7617 §2)",
			"config.credentials.2.consumer|required field missing", "config.credentials.2.username|" + atLeast1}},
	{plugin: "authkit-basic", set: obj{"realmx": "service"}, want: []string{"config.realmx|unknown field"}, doc: true},
	{plugin: "authkit-basic", set: obj{"max_failures": "three"}, want: []string{"config.max_failures|expected an integer"}},
	// authkit-basic: the redis record (issue 14)
	{plugin: "authkit-basic", set: obj{"policy": "cluster"}, want: []string{"config.policy|expected one of: local, redis"}},
	{plugin: "authkit-basic", set: obj{"policy": nil}, want: []string{"config.policy|required field missing"}, doc: true},
	{plugin: "authkit-basic", set: obj{"policy": "redis", "max_failures": 3, "lockout_seconds": 60},
		want: []string{"|policy redis: set redis.host, redis.sentinel_nodes (with redis.sentinel_master) or redis.cluster_nodes"}},
	{plugin: "authkit-basic", set: obj{"redis": obj{"port": 0, "timeout_ms": 20000, "key_prefix": "a b"}}, want: []string{
		"config.redis.key_prefix|must be without spaces or braces (braces are Redis Cluster hash tags)",
		"config.redis.port|value should be between 1 and 65535", "config.redis.timeout_ms|value should be between 1 and 10000"}},
	{plugin: "authkit-basic", set: obj{"redis": obj{"host": "r", "password": "x", "password_env": "REDIS_PW"}},
		want: []string{"|only one or none of these fields must be set: 'password', 'password_env'"}},
	{plugin: "authkit-basic", set: obj{"redis": obj{"password_env": "1PW"}},
		want: []string{"config.redis.password_env|must be an environment variable name (letters, digits, underscores)"}},
	// authkit-key
	{plugin: "authkit-key", set: obj{"key_names": []any{}}, want: []string{"config.key_names|" + atLeast1}},
	{plugin: "authkit-key", set: obj{"key_names": []any{"apikey", ""}}, want: []string{"config.key_names.2|" + atLeast1}},
	{plugin: "authkit-key", set: obj{"credentials": []any{obj{"id": "k", "consumer": "alice", "key_hash": "my-plaintext-key"}}},
		want: []string{"config.credentials.1.key_hash|must be \"sha256:<64 hex digits>\" (a plaintext key is not accepted; hash it with `authkit hash key`)"}},
	{plugin: "authkit-key", set: obj{"credentials": []any{obj{"id": "k\x01", "key_hash": sha256Key("x")}}},
		want: []string{"config.credentials.1.consumer|required field missing", "config.credentials.1.id|must not contain control characters (it is sent in X-Credential-Identifier)"}},
	{plugin: "authkit-key", set: obj{"log_level": "verbose"}, want: []string{"config.log_level|" + levels}},
	{plugin: "authkit-key", drop: []string{"credentials"}, set: obj{"credentials_file": ""},
		want: []string{"|at least one of these fields must be non-empty: 'credentials', 'credentials_file'"}},
	{plugin: "authkit-key", set: obj{"hide_credentials": "yes"}, want: []string{"config.hide_credentials|expected a boolean"}},
	// authkit-oauth
	{plugin: "authkit-oauth", set: obj{"scope_match": "some"}, want: []string{"config.scope_match|expected one of: all, any"}},
	{plugin: "authkit-oauth", set: obj{"token_mode": "magic"}, want: []string{"config.token_mode|expected one of: jwt, introspection, auto"}},
	{plugin: "authkit-oauth", set: obj{"token_mode": nil}, want: []string{"config.token_mode|required field missing"}, doc: true},
	{plugin: "authkit-oauth", set: obj{"consumer_by": "email"}, want: []string{"config.consumer_by|expected one of: username, custom_id"}},
	{plugin: "authkit-oauth", set: obj{"introspection_auth_method": "private_key_jwt"},
		want: []string{"config.introspection_auth_method|expected one of: client_secret_basic, client_secret_post, none"}},
	{plugin: "authkit-oauth", set: obj{"allowed_algorithms": []any{"RS256", "none"}},
		want: []string{"config.allowed_algorithms.2|expected one of: " + strings.Join(algNames(), ", ")}},
	{plugin: "authkit-oauth", set: obj{"leeway_seconds": -1}, want: []string{"config.leeway_seconds|" + maxInt}},
	{plugin: "authkit-oauth", set: obj{"http_timeout_ms": 0}, want: []string{"config.http_timeout_ms|value should be between 1 and 2147483647"}},
	{plugin: "authkit-oauth", set: obj{"jwks_cache_ttl_seconds": 0}, want: []string{"config.jwks_cache_ttl_seconds|value should be between 1 and 2147483647"}},
	{plugin: "authkit-oauth", set: obj{"issuer": "/realms/x"}, want: []string{"config.issuer|" + absURL}},
	{plugin: "authkit-oauth", set: obj{"jwks_uri": "ftp://x/jwks"}, want: []string{"config.jwks_uri|" + absURL}},
	{plugin: "authkit-oauth", set: obj{"introspection_endpoint": "introspect"}, want: []string{"config.introspection_endpoint|" + absURL}},
	{plugin: "authkit-oauth", set: obj{"claims_to_headers": obj{"sub": "Bad Header"}}, want: []string{"config.claims_to_headers|must be a header name (no space, colon, CR or LF)"}},
	{plugin: "authkit-oauth", set: obj{"claims_to_headers": obj{"aud": "HOST"}},
		want: []string{"config.claims_to_headers|that header cannot carry a claim (routing, framing or identity header)"}},
	{plugin: "authkit-oauth", drop: []string{"issuer"},
		want: []string{"|issuer, jwks_uri, static_jwks or introspection_endpoint: at least one is required"}},
	{plugin: "authkit-oauth", drop: []string{"issuer"}, set: obj{"token_mode": "jwt", "introspection_endpoint": "https://i.example/introspect", "introspection_client_id": "g"},
		want: []string{"|token_mode jwt: set issuer (discovery), jwks_uri or static_jwks"}},
	{plugin: "authkit-oauth", drop: []string{"issuer"}, set: obj{"token_mode": "introspection", "jwks_uri": "https://i.example/jwks", "allowed_issuers": []any{"x"}},
		want: []string{"|token_mode introspection: set introspection_endpoint (or issuer, to discover it)"}},
	{plugin: "authkit-oauth", set: obj{"audience": "https://api.example.test"}, want: []string{"config.audience|unknown field"}, doc: true},
	// authkit-oauth: proof of possession (issue 15) and the redis policy
	{plugin: "authkit-oauth", set: obj{"proof_of_possession_dpop": "required"}, want: []string{"config.proof_of_possession_dpop|expected one of: off, optional, strict"}},
	{plugin: "authkit-oauth", set: obj{"proof_of_possession_mtls": "on"}, want: []string{"config.proof_of_possession_mtls|expected one of: off, optional, strict"}},
	{plugin: "authkit-oauth", set: obj{"dpop_proof_lifetime": 0}, want: []string{"config.dpop_proof_lifetime|value should be between 1 and 2147483647"}},
	{plugin: "authkit-oauth", set: obj{"dpop_allowed_algs": []any{"ES256", "HS256"}},
		want: []string{"config.dpop_allowed_algs.2|expected one of: " + strings.Join(dpopAlgNames(), ", ")}},
	{plugin: "authkit-oauth", set: obj{"policy": "redis", "introspection_client_id": "gw"},
		want: []string{"|policy redis: set redis.host, redis.sentinel_nodes (with redis.sentinel_master) or redis.cluster_nodes"}},
	// authkit-oauth-explain
	{plugin: "authkit-oauth-explain", set: obj{"allowed_scopes": []any{""}}, want: []string{"config.allowed_scopes.1|" + atLeast1}},
	{plugin: "authkit-oauth-explain", set: obj{"log_level": "trace"}, want: []string{"config.log_level|" + levels}},
	{plugin: "authkit-oauth-explain", set: obj{"enforce": "true"}, want: []string{"config.enforce|expected a boolean"}},

	// Accepted by both: the edges of the rules.
	{plugin: "authkit-basic", set: obj{"max_failures": 5, "lockout_seconds": 60, "realm": "", "cache_ttl_seconds": 0, "anonymous": ""}},
	{plugin: "authkit-basic", set: obj{"cache_ttl_seconds": nil, "realm": nil}},
	{plugin: "authkit-key", set: obj{"key_names": []any{"x-api-key", "apikey"}, "credentials_file": "", "realm": ""}},
	{plugin: "authkit-oauth", set: obj{"introspection_endpoint": "http://127.0.0.1:9/introspect", "introspection_client_id": "gw",
		"introspection_client_secret": "{vault://env/authkit-not-set}", "token_mode": "auto", "scope_match": "any", "claims_to_headers": obj{"sub": "X-Subject"}}},
	{plugin: "authkit-oauth", drop: []string{"issuer"}, set: obj{"token_mode": "introspection", "introspection_endpoint": "https://i.example/introspect",
		"introspection_client_id": "gw", "introspection_client_secret": ""}},
	{plugin: "authkit-oauth-explain", set: obj{"allowed_scopes": []any{"read"}, "enforce": true}},
	{plugin: "authkit-basic", set: obj{"policy": "redis", "max_failures": 3, "lockout_seconds": 60,
		"redis": obj{"host": "127.0.0.1", "password": "{vault://env/authkit-not-set}", "timeout_ms": 10000}}},
	{plugin: "authkit-oauth", set: obj{"proof_of_possession_dpop": "optional", "dpop_allowed_algs": []any{"ES256", "EdDSA"}, "dpop_proof_lifetime": 1,
		"policy": "redis", "introspection_client_id": "gw", "redis": obj{"cluster_nodes": []any{"10.0.0.1:6379"}, "password_env": "AUTHKIT_REDIS_PW"}}},
}

func algNames() []string {
	f := kongschema.MustGenerate(mustPlugin("authkit-oauth").New()).Lookup("allowed_algorithms").Elements
	var out []string
	for _, v := range f.OneOf {
		out = append(out, v.(string))
	}
	return out
}

func dpopAlgNames() []string {
	f := kongschema.MustGenerate(mustPlugin("authkit-oauth").New()).Lookup("dpop_allowed_algs").Elements
	var out []string
	for _, v := range f.OneOf {
		out = append(out, v.(string))
	}
	return out
}

func mustPlugin(name string) pluginreg.Plugin {
	p, ok := pluginreg.Lookup(name)
	if !ok {
		panic("no plugin " + name)
	}
	return p
}

// caseConfig is case c's plugin config.
func (c schemaCase) config(t testing.TB) obj {
	cfg := obj{}
	for k, v := range minimal(t)[c.plugin] {
		cfg[k] = v
	}
	for _, k := range c.drop {
		delete(cfg, k)
	}
	for k, v := range c.set {
		cfg[k] = v
	}
	return cfg
}

// casesConfig puts case i on route c<i>, its plugin tagged c<i>.
func casesConfig(t testing.TB, cases []schemaCase) []byte {
	var routes []any
	for i, c := range cases {
		p := plugin(c.plugin, c.config(t))
		p["tags"] = []any{"c" + strconv.Itoa(i)}
		routes = append(routes, route("c"+strconv.Itoa(i), "/c"+strconv.Itoa(i), p))
	}
	return marshal(t, obj{"_format_version": "3.0", "services": []any{obj{"name": "s", "url": "http://127.0.0.1:9", "routes": routes}},
		"consumers": []any{obj{"username": "alice"}}})
}

// kongErrors posts cfg to g's POST /config and returns Kong's errors per
// case (index → sorted "field|message"); a 201 gives none.
func kongErrors(t testing.TB, g *realkong.Gateway, cfg []byte) (int, map[int][]string) {
	t.Helper()
	status, body := g.PostConfig(t, cfg)
	out := map[int][]string{}
	if status == 201 {
		return status, out
	}
	var res struct {
		Flattened []struct {
			Tags   []string `json:"entity_tags"`
			Errors []struct {
				Field, Message, Type string
			}
		} `json:"flattened_errors"`
	}
	if err := json.Unmarshal(body, &res); err != nil || status != 400 {
		t.Fatalf("POST /config: %d %s (%v)", status, body, err)
	}
	for _, e := range res.Flattened {
		if len(e.Tags) != 1 || !strings.HasPrefix(e.Tags[0], "c") {
			t.Fatalf("POST /config: an error on an entity that is not a case: %s", body)
		}
		i, _ := strconv.Atoi(e.Tags[0][1:])
		for _, fe := range e.Errors {
			out[i] = append(out[i], fe.Field+"|"+fe.Message)
		}
		sort.Strings(out[i])
	}
	return status, out
}

var checkPathRE = regexp.MustCompile(`^services\[0\]\.routes\[(\d+)\]\.plugins\[0\]$`)
var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// checkErrors runs `authkit check --json` and returns its schema errors
// per case, in Kong's flattened form.
func checkErrors(t testing.TB, bin string, cfg []byte) (map[int][]string, []checkProblem) {
	t.Helper()
	out := map[int][]string{}
	var other []checkProblem
	for _, p := range authkitCheck(t, bin, cfg) {
		m := checkPathRE.FindStringSubmatch(p.Path)
		msg, isSchema := strings.CutSuffix(p.Message, " (Kong refuses the config at start-up)")
		if m == nil || p.Severity != "error" || !isSchema {
			other = append(other, p)
			continue
		}
		i, _ := strconv.Atoi(m[1])
		field := indexRE.ReplaceAllStringFunc(p.Field, func(s string) string {
			n, _ := strconv.Atoi(s[1 : len(s)-1])
			return "." + strconv.Itoa(n+1)
		})
		// An entity check's error (on a record: the config, or redis) has
		// no field in Kong's flattened form.
		if f := kongschema.MustGenerate(mustPlugin(p.Plugin).New()).Lookup(strings.Split(strings.TrimPrefix(field, "config"), ".")[1:]...); field == "config" || f != nil && f.Type == "record" {
			field = ""
		}
		out[i] = append(out[i], field+"|"+msg)
		sort.Strings(out[i])
	}
	return out, other
}

func wantErrors(cases []schemaCase) map[int][]string {
	out := map[int][]string{}
	for i, c := range cases {
		if c.want != nil {
			w := append([]string(nil), c.want...)
			sort.Strings(w)
			out[i] = w
		}
	}
	return out
}

// compareErrors reports the cases where got and want differ.
func compareErrors(t testing.TB, what string, cases []schemaCase, got, want map[int][]string) {
	t.Helper()
	for i := range cases {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: case %d (%s %v drop %v):\n got %q\nwant %q", what, i, cases[i].plugin, cases[i].set, cases[i].drop, got[i], want[i])
		}
	}
}

// TestKongNativeSchemas runs every plugin in a real Kong (whose env vault
// holds a secret) on its minimal config, then checks the schema Kong
// shows, the defaults the plugins receive, the table of invalid configs
// (POST /config, kong start, authkit check, the plugins' compile), a
// vault reference, and the same table on a Kong that knows the plugins
// only by their generated schema.lua.
func TestKongNativeSchemas(t *testing.T) {
	realkong.Require(t)
	bin := realkong.BuildPlugins(t)
	plugins := realkong.Plugins(t)
	const secret = "s3cret-from-the-env-vault-7f1c"

	// The introspection endpoint of the vault route: it records the
	// client secret it is sent, and answers active.
	var mu sync.Mutex
	var seenSecrets []string
	intro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/introspect" {
			_, _ = io.WriteString(w, "upstream")
			return
		}
		_, pw, _ := r.BasicAuth()
		mu.Lock()
		seenSecrets = append(seenSecrets, pw)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"active":true,"sub":"svc","exp":%d}`, time.Now().Add(time.Hour).Unix())
	}))
	t.Cleanup(intro.Close)

	var routes []any
	for _, n := range pluginreg.Names() {
		routes = append(routes, route("min-"+n, "/min/"+n, plugin(n, minimal(t)[n])))
	}
	routes = append(routes, route("vault", "/vault", plugin("authkit-oauth", obj{
		"token_mode": "introspection", "introspection_endpoint": intro.URL + "/introspect",
		"introspection_client_id": "gateway", "introspection_client_secret": "{vault://env/authkit-test-secret}",
	})))
	cfg := marshal(t, obj{"_format_version": "3.0", "consumers": []any{obj{"username": "alice"}},
		"services": []any{obj{"name": "s", "url": intro.URL, "routes": routes}}})
	g := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: plugins, Config: cfg, LogLevel: "debug",
		Env: map[string]string{"AUTHKIT_TEST_SECRET": secret}})
	g.WaitStatus(t, "/min/authkit-basic", http.StatusUnauthorized, 20*time.Second)

	t.Run("defaults in GET /schemas/plugins", func(t *testing.T) {
		for _, n := range pluginreg.Names() {
			var s struct {
				Fields []map[string]json.RawMessage
			}
			getJSON(t, g.AdminURL+"/schemas/plugins/"+n, &s)
			var config *kongschema.Field
			for _, f := range s.Fields {
				if raw, ok := f["config"]; ok {
					config = new(kongschema.Field)
					if err := json.Unmarshal(raw, config); err != nil {
						t.Fatal(err)
					}
				}
			}
			if config == nil {
				t.Fatalf("%s: no config in Kong's schema", n)
			}
			want := kongschema.MustGenerate(mustPlugin(n).New())
			if d := defaultsDiff(want, config, "config"); d != "" {
				t.Errorf("%s: Kong's schema differs from the generated one:\n%s", n, d)
			}
		}
	})

	t.Run("the plugins receive the defaults", func(t *testing.T) {
		// Each plugin server logs the config fields Kong left unset (null
		// or absent) when it starts an instance: only those without a
		// default.
		for _, n := range pluginreg.Names() {
			want := noDefault(kongschema.MustGenerate(mustPlugin(n).New()))
			re := regexp.MustCompile(`started instance \d+ of ` + regexp.QuoteMeta(n) + ` \(config fields unset: ([^;]*);`)
			for _, p := range []string{"/min/" + n} {
				get(t, g, p)
			}
			deadline := time.Now().Add(logWait)
			var got string
			for time.Now().Before(deadline) {
				if m := re.FindAllStringSubmatch(g.ErrorLog(), -1); m != nil {
					got = m[len(m)-1][1]
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got != want {
				t.Errorf("%s: the plugin got %q unset, want %q (the fields without a default)", n, got, want)
			}
		}
	})

	t.Run("a vault reference reaches the plugin resolved", func(t *testing.T) {
		r := get(t, g, "/vault", "Authorization", "Bearer opaque-token-1")
		mu.Lock()
		seen := append([]string(nil), seenSecrets...)
		mu.Unlock()
		if r.Status != 200 || len(seen) == 0 || seen[0] != secret {
			t.Fatalf("GET /vault: %d %s; the introspection endpoint saw client secrets %q", r.Status, r.Body, seen)
		}
		// Kong tells the plugin which fields came from references.
		if !regexp.MustCompile(`started instance \d+ of authkit-oauth \(.*from vault references: introspection_client_secret\)`).MatchString(g.ErrorLog()) {
			t.Errorf("no plugin log line names introspection_client_secret as a vault reference")
		}
		// Kong's Admin API shows the reference, never the value.
		body := getBody(t, g.AdminURL+"/plugins")
		if strings.Contains(body, secret) || !strings.Contains(body, "{vault://env/authkit-test-secret}") {
			t.Errorf("GET /plugins shows the secret or loses the reference")
		}
		time.Sleep(500 * time.Millisecond) // let the plugin's lines reach error.log
		log := g.ErrorLog()
		if !strings.Contains(log, "started instance") || !strings.Contains(log, "authkit {") {
			t.Fatalf("error.log has not the plugins' own lines (their output, their log records): the check below would prove nothing")
		}
		if strings.Contains(log, secret) {
			for _, l := range strings.Split(log, "\n") {
				if strings.Contains(l, secret) {
					t.Errorf("error.log (debug level, plugin output included) shows the secret: %.300s", l)
				}
			}
		}
	})

	cases := casesConfig(t, schemaCases)
	want := wantErrors(schemaCases)
	if len(want) < 30 {
		t.Fatalf("only %d invalid cases", len(want))
	}
	t.Logf("%d cases, %d invalid", len(schemaCases), len(want))

	t.Run("POST /config refuses the invalid cases", func(t *testing.T) {
		status, got := kongErrors(t, g, cases)
		if status != 400 {
			t.Fatalf("POST /config: %d", status)
		}
		compareErrors(t, "POST /config (the -dump schemas)", schemaCases, got, want)
		// The refused config changed nothing.
		if r := get(t, g, "/min/authkit-key"); r.bodyCode() != "APIKEY_MISSING" {
			t.Errorf("after a refused POST /config: %d %s", r.Status, r.Body)
		}
	})

	t.Run("authkit check refuses the same set", func(t *testing.T) {
		got, other := checkErrors(t, bin, cases)
		compareErrors(t, "authkit check", schemaCases, got, want)
		for _, p := range other {
			t.Errorf("authkit check: a problem that is not Kong's schema's: %+v", p)
		}
	})

	t.Run("the plugins' compile refuses the same set", func(t *testing.T) {
		for i, c := range schemaCases {
			if c.doc {
				continue
			}
			js, err := json.Marshal(c.config(t))
			if err != nil {
				t.Fatal(err)
			}
			err = pluginreg.CompileJSON(c.plugin, js)
			if (err != nil) != (c.want != nil) {
				t.Errorf("case %d (%s %v): compile: %v; Kong refuses it: %v", i, c.plugin, c.set, err, c.want != nil)
			}
		}
	})

	t.Run("kong start refuses the invalid cases, naming each field", func(t *testing.T) {
		var bad []schemaCase
		for _, c := range schemaCases {
			if c.want != nil {
				bad = append(bad, c)
			}
		}
		// nginx cuts init_by_lua's error message at about 4 kB: a few
		// cases per start, so that Kong's whole answer is seen. Kong
		// prints one section per route ("- in entry <n> of 'routes':"),
		// each naming the plugin's fields.
		const batch = 8
		sectionRE := regexp.MustCompile(`- in entry (\d+) of 'routes':`)
		for lo := 0; lo < len(bad); lo += batch {
			part := bad[lo:min(lo+batch, len(bad))]
			_, err := realkong.TryStart(t, realkong.Options{BinDir: bin, Plugins: plugins, Config: casesConfig(t, part)})
			if err == nil {
				t.Fatalf("Kong started with invalid cases %d..%d", lo, lo+len(part)-1)
			}
			sections := sectionRE.Split(err.Error(), -1)
			if len(sections) != len(part)+1 || !strings.Contains(err.Error(), "Run with --v") {
				t.Fatalf("kong start: %d route sections for %d invalid cases, or a cut message:\n%v", len(sections)-1, len(part), err)
			}
			for i, c := range part {
				for _, w := range c.want {
					if leaf := leafError(w); !strings.Contains(sections[i+1], leaf) {
						t.Errorf("kong start: %s %v: no %q in\n%s", c.plugin, c.set, leaf, sections[i+1])
					}
				}
			}
		}
	})

	t.Run("schema.lua: a Kong with the Lua schemas judges alike", func(t *testing.T) {
		dir, err := os.MkdirTemp("", "ak-lua-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		authkit(t, bin, "schema", "--lua", "--dir", dir)
		var routes []any
		for _, n := range pluginreg.Names() {
			routes = append(routes, route("min-"+n, "/min/"+n, plugin(n, minimal(t)[n])))
		}
		lua := realkong.Start(t, realkong.Options{BinDir: bin, Plugins: []string{},
			Config: marshal(t, obj{"_format_version": "3.0", "consumers": []any{obj{"username": "alice"}},
				"services": []any{obj{"name": "s", "url": "http://127.0.0.1:9", "routes": routes}}}),
			Env: map[string]string{
				"KONG_PLUGINS":            "bundled," + strings.Join(pluginreg.Names(), ","),
				"KONG_PLUGINSERVER_NAMES": "",
				"KONG_LUA_PACKAGE_PATH":   dir + "/?.lua;./?.lua;./?/init.lua;;", // Kong's default after the schemas
			}})
		for _, n := range pluginreg.Names() {
			a, b := getBody(t, g.AdminURL+"/schemas/plugins/"+n), getBody(t, lua.AdminURL+"/schemas/plugins/"+n)
			var av, bv any
			if json.Unmarshal([]byte(a), &av) != nil || json.Unmarshal([]byte(b), &bv) != nil || !reflect.DeepEqual(av, bv) {
				t.Errorf("%s: GET /schemas/plugins differs:\n-dump      %s\nschema.lua %s", n, a, b)
			}
		}
		status, got := kongErrors(t, lua, cases)
		if status != 400 {
			t.Fatalf("POST /config: %d", status)
		}
		compareErrors(t, "POST /config (schema.lua)", schemaCases, got, want)
		var valid []schemaCase
		for _, c := range schemaCases {
			if c.want == nil {
				valid = append(valid, c)
			}
		}
		for name, gw := range map[string]*realkong.Gateway{"schema.lua": lua, "-dump": g} {
			if status, errs := kongErrors(t, gw, casesConfig(t, valid)); status != 201 {
				t.Errorf("%s: POST /config of the valid cases: %d %v", name, status, errs)
			}
		}
	})
}

// leafError is the last line `kong start` prints for a flattened
// "field|message": in 'username': message, in entry 2 of 'key_names':
// message, or of '@entity': message.
func leafError(flat string) string {
	field, msg, _ := strings.Cut(flat, "|")
	if field == "" {
		return "of '@entity': " + msg
	}
	parts := strings.Split(field, ".")
	last := parts[len(parts)-1]
	if _, err := strconv.Atoi(last); err == nil {
		return "in entry " + last + " of '" + parts[len(parts)-2] + "': " + msg
	}
	return "in '" + last + "': " + msg
}

// defaultsDiff compares the attributes Kong shows for each field (type,
// default, required, referenceable, one_of, between) with the generated
// schema's, recursively.
func defaultsDiff(want, got *kongschema.Field, path string) string {
	var b strings.Builder
	if want.Type != got.Type {
		fmt.Fprintf(&b, "%s: type %q, Kong %q\n", path, want.Type, got.Type)
	}
	// Kong's JSON shows an empty table as [], whether map or array.
	if want.HasDefault != got.HasDefault || want.HasDefault && strings.ReplaceAll(jsonOf(want.Default), "{}", "[]") != jsonOf(got.Default) {
		fmt.Fprintf(&b, "%s: default %s, Kong %s\n", path, jsonOf(want.Default), jsonOf(got.Default))
	}
	if want.Referenceable != got.Referenceable || !reflect.DeepEqual(jsonOf(want.OneOf), jsonOf(got.OneOf)) ||
		!reflect.DeepEqual(want.Between, got.Between) {
		fmt.Fprintf(&b, "%s: referenceable/one_of/between %v %v %v, Kong %v %v %v\n", path,
			want.Referenceable, want.OneOf, want.Between, got.Referenceable, got.OneOf, got.Between)
	}
	if want.Required != got.Required && want.Type != "record" { // Kong makes records required
		fmt.Fprintf(&b, "%s: required %v, Kong %v\n", path, want.Required, got.Required)
	}
	for _, nf := range want.Fields {
		g := got.Lookup(nf.Name)
		if g == nil {
			fmt.Fprintf(&b, "%s.%s: missing in Kong\n", path, nf.Name)
			continue
		}
		b.WriteString(defaultsDiff(nf.Field, g, path+"."+nf.Name))
	}
	if want.Elements != nil && got.Elements != nil {
		b.WriteString(defaultsDiff(want.Elements, got.Elements, path+"[]"))
	}
	if len(want.EntityChecks) != len(got.EntityChecks) {
		fmt.Fprintf(&b, "%s: %d entity checks, Kong %d\n", path, len(want.EntityChecks), len(got.EntityChecks))
	}
	return b.String()
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// noDefault lists the top-level fields without a default, as the plugin
// server's start line does ("none" when there is none). (A plugin's
// minimal config names no such field.)
func noDefault(f *kongschema.Field) string {
	var out []string
	for _, nf := range f.Fields {
		if !nf.Field.HasDefault && nf.Field.Type != "record" { // Kong expands a record
			out = append(out, nf.Name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func getBody(t testing.TB, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getBody(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// authkit runs the built CLI.
func authkit(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, "authkit"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("authkit %v: %v\n%s", args, err, out)
	}
	return string(out)
}
