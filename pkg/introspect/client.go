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

	gocache "github.com/patrickmn/go-cache"
	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
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
	// CacheTTL caps how long an active answer is reused (never beyond the
	// token's exp, RFC 7662 §4); 0 disables caching of active answers.
	CacheTTL time.Duration
	// NegativeTTL is how long an inactive answer is reused; 0 disables.
	NegativeTTL time.Duration
	Now         func() time.Time
}

// Client introspects tokens at one endpoint. Build one per config and share
// it; answers live in a process-wide cache keyed by endpoint and token hash.
type Client struct {
	opts  Options
	group singleflight.Group
	calls atomic.Int64
}

// cache holds answers of every Client, keyed by the endpoint, client id and
// SHA-256 of the token: never the token itself. go-cache evicts expired
// entries every minute; entries never outlive their own expiry.
var cache = gocache.New(time.Minute, time.Minute)

// MaxCacheEntries bounds the process-wide answer cache; past it, new
// answers are not cached (the request is still answered).
var MaxCacheEntries = 100000

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
	return &Client{opts: opts}, nil
}

// Calls is the number of introspection requests sent (tests, benchmarks).
func (c *Client) Calls() int64 { return c.calls.Load() }

func (c *Client) key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return c.opts.Endpoint + "\x00" + c.opts.ClientID + "\x00" + string(sum[:])
}

// Introspect returns the provider's answer for token, from the cache when
// it may be reused. Concurrent calls for the same uncached token share one
// request. Provider failures are errors and are never cached.
func (c *Client) Introspect(ctx context.Context, token string) (*Answer, bool, error) {
	k := c.key(token)
	if v, ok := cache.Get(k); ok {
		return v.(*Answer), true, nil
	}
	v, err, _ := c.group.Do(k, func() (any, error) {
		if v, ok := cache.Get(k); ok {
			return v, nil
		}
		a, err := c.fetch(ctx, token)
		if err != nil {
			return nil, err
		}
		c.store(k, a)
		return a, nil
	})
	if err != nil {
		return nil, false, err
	}
	return v.(*Answer), false, nil
}

func (c *Client) store(k string, a *Answer) {
	if cache.ItemCount() >= MaxCacheEntries {
		return
	}
	ttl := c.opts.NegativeTTL
	if a.Active {
		ttl = c.opts.CacheTTL
		// RFC 7662 §4: the answer MUST NOT be cached beyond exp.
		exp, ok := a.Claims["exp"].(float64)
		if !ok {
			ttl = 0 // no exp: the token's lifetime is unknown, do not cache
		} else if until := time.Unix(int64(exp), 0).Sub(c.opts.Now()); until < ttl {
			ttl = until
		}
	}
	if ttl > 0 {
		cache.Set(k, a, ttl)
	}
}

func (c *Client) fetch(ctx context.Context, token string) (*Answer, error) {
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
	a, err := ParseResponse(resp.Body)
	if err != nil {
		return nil, errcode.From(err).With("status", resp.Status).With("content_type", resp.ContentType)
	}
	return a, nil
}
