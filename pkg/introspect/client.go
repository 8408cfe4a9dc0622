package introspect

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// Auth methods for the gateway's own client credentials (RFC 7662 §2.1
// requires the protected resource to authenticate; RFC 6749 §2.3.1).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
	AuthNone  = "none"
)

// Options configure a Client.
type Options struct {
	Endpoint      string
	ClientID      string
	ClientSecret  string
	AuthMethod    string
	TokenTypeHint string
	HTTP          *provider.Client
	// CacheTTL caps how long after it was fetched an active answer is
	// reused by this Client (never beyond the token's exp, RFC 7662 §4); 0
	// never reuses one.
	CacheTTL time.Duration
	// NegativeTTL is how long after it was fetched an inactive answer is
	// reused by this Client; 0 never reuses one.
	NegativeTTL time.Duration
	Now         func() time.Time
}

// Client introspects tokens at one endpoint. Build one per config and share
// it; answers live in a process-wide cache (cache.go) that every Client
// reads under its own TTLs.
type Client struct {
	opts  Options
	ck    [32]byte // clientKey(opts)
	group singleflight.Group
	calls atomic.Int64
}

// New validates opts and returns a Client.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("introspection_endpoint: %q is not an absolute http(s) URL", opts.Endpoint)
	}
	switch opts.AuthMethod {
	case "":
		opts.AuthMethod = AuthBasic
	case AuthBasic, AuthPost, AuthNone:
	default:
		return nil, fmt.Errorf("introspection_auth_method: %q is not client_secret_basic, client_secret_post or none", opts.AuthMethod)
	}
	if opts.AuthMethod != AuthNone && opts.ClientID == "" {
		return nil, fmt.Errorf("introspection_client_id: required with introspection_auth_method %s", opts.AuthMethod)
	}
	if opts.HTTP == nil {
		opts.HTTP = provider.New(provider.DefaultTimeout)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheTTL < 0 || opts.NegativeTTL < 0 {
		return nil, fmt.Errorf("introspection cache TTLs must be ≥ 0")
	}
	raise(&maxTTL, opts.CacheTTL)
	raise(&maxNegTTL, opts.NegativeTTL)
	return &Client{opts: opts, ck: clientKey(opts)}, nil
}

// Calls is the number of introspection requests sent (tests, benchmarks).
func (c *Client) Calls() int64 { return c.calls.Load() }

// key is the cache key of token for this Client: everything the verdict
// depends on (clientKey) and the token's SHA-256, both fixed-size, hashed
// together. The token is hashed without a copy (sha256 only reads it): the
// copy would be the warm path's allocation.
func (c *Client) key(token string) [32]byte {
	var buf [64]byte
	copy(buf[:32], c.ck[:])
	th := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
	copy(buf[32:], th[:])
	return sha256.Sum256(buf[:])
}

// cached returns the stored answer for k if this Client's policy allows it.
func (c *Client) cached(k [32]byte) (*Answer, bool) {
	if e, ok := answers().get(k); ok && e.usable(c.opts.Now(), c.opts.CacheTTL, c.opts.NegativeTTL) {
		return e.answer, true
	}
	return nil, false
}

// Introspect returns the provider's answer for token, from the cache when
// this Client's TTLs allow it. Concurrent calls for the same token that the
// cache cannot answer share one request. Provider failures are errors and
// are never cached.
func (c *Client) Introspect(ctx context.Context, token string) (*Answer, bool, error) {
	k := c.key(token)
	a, ok := c.cached(k)
	if c.opts.CacheTTL > 0 || c.opts.NegativeTTL > 0 {
		metrics.CacheLookup(metrics.CacheIntrospection, ok)
	}
	if ok {
		return a, true, nil
	}
	v, err, _ := c.group.Do(string(k[:]), func() (any, error) {
		if a, ok := c.cached(k); ok {
			return a, nil
		}
		fetched := c.opts.Now()
		a, err := c.fetch(ctx, token)
		if err != nil {
			return nil, err
		}
		store(answers(), k, a, fetched, c.opts.Now())
		return a, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*Answer), false, nil
}

// fetch asks the provider; the call is timed and counted with the code it
// ends with (after the answer's own checks).
func (c *Client) fetch(ctx context.Context, token string) (a *Answer, err error) {
	defer func(start time.Time) { metrics.ProviderCall(metrics.EndpointIntrospection, start, err) }(time.Now())
	c.calls.Add(1)
	form := url.Values{"token": {token}}
	if c.opts.TokenTypeHint != "" {
		form.Set("token_type_hint", c.opts.TokenTypeHint)
	}
	h := http.Header{}
	switch c.opts.AuthMethod {
	case AuthBasic:
		// RFC 6749 §2.3.1: form-urlencode id and secret, then Basic.
		cred := url.QueryEscape(c.opts.ClientID) + ":" + url.QueryEscape(c.opts.ClientSecret)
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	case AuthPost:
		form.Set("client_id", c.opts.ClientID)
		form.Set("client_secret", c.opts.ClientSecret)
	}
	resp, err := c.opts.HTTP.PostForm(ctx, c.opts.Endpoint, form, h, nil)
	if err != nil {
		if e := errcode.From(err); e.Code == errcode.ProviderInvalidResp && resp != nil && (resp.Status == 401 || resp.Status == 403) {
			// A bare 401 without an OAuth error body: the gateway's own
			// credentials were refused all the same (RFC 7662 §2.3).
			return nil, errcode.New(errcode.ProviderClientAuthFail, "introspection endpoint answered %d to the gateway's client %q", resp.Status, c.opts.ClientID).
				With("status", resp.Status).With("client_id", c.opts.ClientID)
		}
		e := errcode.From(err)
		if e.Code == errcode.ProviderClientAuthFail {
			e = e.With("client_id", c.opts.ClientID).With("auth_method", c.opts.AuthMethod)
		}
		return nil, e
	}
	a, err = ParseResponse(resp.Body)
	if err != nil {
		return nil, errcode.From(err).With("status", resp.Status).With("content_type", resp.ContentType)
	}
	return a, nil
}

// Options are the options in effect (defaults applied), the client secret
// included: never log them.
func (c *Client) Options() Options { return c.opts }
