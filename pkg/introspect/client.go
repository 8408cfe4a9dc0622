package introspect

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
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
	// Shared, when set (policy redis), shares answers through Redis with
	// every gateway node using it (shared.go).
	Shared *redisstore.Store
}

// Client introspects tokens at one endpoint. Build one per config and share
// it; answers live in a process-wide cache (cache.go) that every Client
// reads under its own TTLs.
type Client struct {
	opts  Options
	ck    [32]byte // clientKey(opts)
	skey  []byte   // sharedKey(opts), with Shared
	group singleflight.Group
	calls atomic.Int64
	regMu sync.Mutex   // lifetime.go
	reg   atomic.Int32 // unregistered, registered, closed
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
	c := &Client{opts: opts, ck: clientKey(opts)}
	if opts.Shared != nil {
		c.skey = sharedKey(opts)
	}
	return c, nil
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

// cached returns the stored answer for k if this Client's policy allows
// it; fresh is false when the answer is usable but, with the shared tier,
// older than LocalTier since Redis last confirmed it.
func (c *Client) cached(k [32]byte) (a *Answer, usable, fresh bool) {
	now := c.opts.Now()
	if e, ok := answers().get(k); ok && e.usable(now, c.opts.CacheTTL, c.opts.NegativeTTL) {
		return e.answer, true, c.opts.Shared == nil || now.Sub(e.checked) < localTier
	}
	return nil, false, false
}

// Introspect returns the provider's answer for token, from the cache when
// this Client's TTLs allow it. Concurrent calls for the same token that the
// cache cannot answer share one request. Provider failures are errors and
// are never cached. With the shared tier (Options.Shared), an answer not
// confirmed within LocalTier is read from Redis first, and a fetched one
// is written there; ctx carries the redisstore.Reporter of the request.
func (c *Client) Introspect(ctx context.Context, token string) (*Answer, bool, error) {
	c.register()
	k := c.key(token)
	a, _, fresh := c.cached(k)
	if c.opts.CacheTTL > 0 || c.opts.NegativeTTL > 0 {
		metrics.CacheLookup(metrics.CacheIntrospection, fresh)
	}
	if fresh {
		return a, true, nil
	}
	v, err, _ := c.group.Do(string(k[:]), func() (any, error) {
		a, usable, fresh := c.cached(k)
		if fresh {
			return a, nil
		}
		var h []byte
		if c.opts.Shared != nil {
			h = c.sharedHash(token)
			sa, fetched, found, local, err := c.sharedGet(ctx, h)
			switch {
			case err != nil:
				return nil, err
			case local && usable:
				// Redis is down and the store tolerant: the local
				// answer, under the process-local rules.
				return a, nil
			case found:
				now := c.opts.Now()
				e := &entry{answer: sa, fetched: fetched}
				if sa.Active {
					exp, _ := sa.Claims["exp"].(float64)
					e.exp = time.Unix(int64(exp), 0)
				}
				if e.usable(now, c.opts.CacheTTL, c.opts.NegativeTTL) {
					store(answers(), k, sa, fetched, now, now)
					return sa, nil
				}
			case local:
				h = nil // no write either while Redis is down
			}
		}
		fetched := c.opts.Now()
		if h != nil {
			// Redis keeps fetched_at in ms: the local entry must carry
			// the same instant, or a later read from Redis would look
			// older than it and never refresh its LocalTier stamp.
			fetched = time.UnixMilli(fetched.UnixMilli())
		}
		a, err := c.fetch(ctx, token)
		if err != nil {
			return nil, err
		}
		now := c.opts.Now()
		var checked time.Time
		if h != nil {
			local, err := c.sharedPut(ctx, h, a, fetched, now)
			if err != nil {
				return nil, err
			}
			if !local {
				checked = now
			}
		}
		store(answers(), k, a, fetched, now, checked)
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
