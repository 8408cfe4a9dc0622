package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/introspect"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// probeCheck is one step of a probe and its verdict.
type probeCheck struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Target string `json:"target,omitempty"`
	Info   string `json:"info,omitempty"`
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
	Hint   string `json:"hint,omitempty"`
}

type probeOptions struct {
	issuer, jwksURI, endpoint, clientID, authMethod string
	secretEnv                                       string
	timeout                                         time.Duration
	asJSON                                          bool
	redis                                           redisProbeFlags
}

// newProbeCmd checks a live provider with the plugins' own code: the
// discovery, JWKS and introspection clients authkit-oauth uses, so a
// problem found here is the problem the gateway will have.
func newProbeCmd() *cobra.Command {
	var o probeOptions
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Check a live OAuth provider as authkit-oauth would (discovery, issuer, JWKS, introspection), and the Redis of policy redis",
		Example: "  authkit probe --issuer https://idp.example.com\n" +
			"  AUTHKIT_CLIENT_SECRET=… authkit probe --issuer https://idp.example.com --client-id gateway\n" +
			"  authkit probe --introspection-endpoint https://idp.example.com/introspect --auth-method none\n" +
			"  AUTHKIT_REDIS_PASSWORD=… authkit probe --redis-host redis.internal --redis-username authkit",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.issuer == "" && o.jwksURI == "" && o.endpoint == "" && !o.redis.set() {
				return usageError(fmt.Errorf("give --issuer, --jwks-uri, --introspection-endpoint or a Redis (--redis-host, --redis-sentinel-master, --redis-cluster-nodes)"))
			}
			checks := runProbe(cmd.Context(), o, os.Getenv(o.secretEnv))
			if o.redis.set() {
				ctx := cmd.Context()
				if ctx == nil {
					ctx = context.Background()
				}
				checks = append(checks, probeRedis(ctx, &o.redis, o.timeout, os.Getenv))
			}
			failed := 0
			for _, c := range checks {
				if !c.OK {
					failed++
				}
			}
			if o.asJSON {
				if err := writeJSON(cmd.OutOrStdout(), checks); err != nil {
					return err
				}
			} else {
				printProbe(cmd.OutOrStdout(), checks)
			}
			if failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "issuer URL: discovery (OIDC, then RFC 8414) and the issuer check")
	f.StringVar(&o.jwksURI, "jwks-uri", "", "JWKS URL (overrides discovery)")
	f.StringVar(&o.endpoint, "introspection-endpoint", "", "RFC 7662 endpoint (default: from discovery)")
	f.StringVar(&o.clientID, "client-id", "", "the gateway's client id at the introspection endpoint")
	f.StringVar(&o.secretEnv, "client-secret-env", "AUTHKIT_CLIENT_SECRET", "environment variable holding the client secret (never a flag: it would show in ps)")
	f.StringVar(&o.authMethod, "auth-method", introspect.AuthBasic, "client_secret_basic, client_secret_post or none")
	f.DurationVar(&o.timeout, "timeout", 3*time.Second, "timeout of each request")
	f.BoolVar(&o.asJSON, "json", false, "print the checks as JSON")
	o.redis.register(f)
	return cmd
}

func failCheck(step, target string, err error) probeCheck {
	e := errcode.From(err)
	return probeCheck{Step: step, Target: target, Code: string(e.Code), Detail: e.Detail, Hint: e.Code.Entry().Hint}
}

func runProbe(ctx context.Context, o probeOptions, secret string) []probeCheck {
	if ctx == nil {
		ctx = context.Background()
	}
	client := provider.New(o.timeout)
	var checks []probeCheck
	jwksURI, endpoint := o.jwksURI, o.endpoint
	if o.issuer != "" {
		m, err := jwks.Discover(ctx, client, o.issuer)
		if err != nil {
			checks = append(checks, failCheck("discovery", o.issuer, err))
		} else {
			info := fmt.Sprintf("%s document; issuer matches", m.Source)
			checks = append(checks, probeCheck{Step: "discovery", OK: true, Target: o.issuer, Info: info})
			if jwksURI == "" {
				jwksURI = m.JWKSURI
			}
			if endpoint == "" {
				endpoint = m.IntrospectionEndpoint
			}
		}
	}
	if jwksURI != "" {
		set := jwks.NewRemote(jwksURI, jwks.RemoteOptions{Client: client, MinRefresh: jwks.DefaultMinRefresh})
		if _, err := set.Lookup(ctx, "authkit-probe-no-such-kid"); err != nil && !isCode(err, errcode.KeyNotFound) {
			checks = append(checks, failCheck("jwks", jwksURI, err))
		} else if cur := set.Current(); cur != nil {
			var kinds []string
			for _, k := range cur.Keys {
				kinds = append(kinds, fmt.Sprintf("%s %s%s", k.ID, k.Type, algSuffix(k.Alg)))
			}
			info := fmt.Sprintf("%d signing key(s): %s", len(cur.Keys), strings.Join(kinds, ", "))
			if len(cur.Skipped) > 0 {
				info += fmt.Sprintf("; skipped %d: %s", len(cur.Skipped), strings.Join(cur.Skipped, "; "))
			}
			checks = append(checks, probeCheck{Step: "jwks", OK: true, Target: jwksURI, Info: info})
		}
	}
	if endpoint != "" && (o.clientID != "" || o.authMethod == introspect.AuthNone) {
		c, err := introspect.New(introspect.Options{Endpoint: endpoint, ClientID: o.clientID, ClientSecret: secret,
			AuthMethod: o.authMethod, TokenTypeHint: "access_token", HTTP: client})
		if err != nil {
			checks = append(checks, failCheck("introspection", endpoint, errcode.Wrap(errcode.ConfigInvalid, err)))
		} else if ans, _, err := c.Introspect(ctx, fmt.Sprintf("authkit-probe-%d", time.Now().UnixNano())); err != nil {
			checks = append(checks, failCheck("introspection", endpoint, err))
		} else if ans.Active {
			checks = append(checks, probeCheck{Step: "introspection", Target: endpoint, Code: string(errcode.ProviderInvalidResp),
				Detail: "a random token was reported active: the endpoint does not introspect", Hint: errcode.ProviderInvalidResp.Entry().Hint})
		} else {
			checks = append(checks, probeCheck{Step: "introspection", OK: true, Target: endpoint, Info: "a random token is inactive, as it must be; the gateway's credentials are accepted"})
		}
	} else if endpoint != "" {
		checks = append(checks, probeCheck{Step: "introspection", OK: true, Target: endpoint, Info: "not probed: give --client-id (or --auth-method none)"})
	}
	return checks
}

func isCode(err error, c errcode.Code) bool { return errcode.From(err).Code == c }

func algSuffix(alg string) string {
	if alg == "" {
		return ""
	}
	return " (" + alg + ")"
}

func printProbe(out io.Writer, checks []probeCheck) {
	for _, c := range checks {
		if c.OK {
			fmt.Fprintf(out, "ok    %-13s %s\n      %s\n", c.Step, c.Target, c.Info)
			continue
		}
		fmt.Fprintf(out, "FAIL  %-13s %s\n      %s: %s\n      fix: %s\n", c.Step, c.Target, c.Code, c.Detail, c.Hint)
	}
}
