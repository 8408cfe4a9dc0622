package oauth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/introspect"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// discovered is a provider's metadata, fetched on first use (never at
// config time: the provider may be down when Kong starts), shared by every
// config of the process with the same issuer and client settings, and
// refreshed after ttl. A failed refresh keeps the last good document; a
// failure with none is retried at most once per minRefresh.
type discovered struct {
	issuer     string
	client     *provider.Client
	minRefresh time.Duration
	ttl        time.Duration

	mu      sync.RWMutex
	meta    *jwks.Metadata
	fetched time.Time
	tried   time.Time
	lastErr error
	group   singleflight.Group
}

// discoveries holds one discovered per issuer and client settings for the
// process, counted by the compiled configs that hold it; the last release
// drops it, so configuration churn does not grow the process.
var (
	discoveriesMu sync.Mutex
	discoveries   = map[string]*heldDiscovery{}
)

type heldDiscovery struct {
	d    *discovered
	refs int
}

// discover returns the shared discovered of issuer and its release
// (idempotent).
func discover(issuer string, c *provider.Client, minRefresh, ttl time.Duration) (*discovered, func()) {
	key := issuer + "\x00" + c.ConfigKey() + "\x00" + minRefresh.String() + "\x00" + ttl.String()
	discoveriesMu.Lock()
	defer discoveriesMu.Unlock()
	h, ok := discoveries[key]
	if !ok {
		h = &heldDiscovery{d: &discovered{issuer: issuer, client: c, minRefresh: minRefresh, ttl: ttl}}
		discoveries[key] = h
	}
	h.refs++
	var once sync.Once
	return h.d, func() {
		once.Do(func() {
			discoveriesMu.Lock()
			defer discoveriesMu.Unlock()
			if h.refs--; h.refs == 0 && discoveries[key] == h {
				delete(discoveries, key)
			}
		})
	}
}

// beforeFlight runs between the check and the flight (tests only: it
// widens the window in which another flight can end).
var beforeFlight func()

func (d *discovered) metadata(ctx context.Context) (*jwks.Metadata, error) {
	now := time.Now()
	d.mu.RLock()
	meta, fetched, tried, lastErr := d.meta, d.fetched, d.tried, d.lastErr
	d.mu.RUnlock()
	if meta != nil && now.Sub(fetched) < d.ttl {
		return meta, nil
	}
	if now.Sub(tried) < d.minRefresh {
		if meta != nil {
			return meta, nil // stale-if-error
		}
		if lastErr != nil {
			return nil, lastErr
		}
	}
	if beforeFlight != nil {
		beforeFlight()
	}
	v, err, _ := d.group.Do("", func() (any, error) {
		// Check again under the lock: a caller that read the state just
		// before another flight ended must not start a second fetch
		// within minRefresh (the check above alone is check-then-act).
		d.mu.RLock()
		meta, fetched, tried, lastErr := d.meta, d.fetched, d.tried, d.lastErr
		d.mu.RUnlock()
		if now := time.Now(); meta != nil && now.Sub(fetched) < d.ttl || now.Sub(tried) < d.minRefresh && (meta != nil || lastErr != nil) {
			if meta != nil {
				return meta, nil
			}
			return nil, lastErr
		}
		m, err := jwks.Discover(context.WithoutCancel(ctx), d.client, d.issuer)
		d.mu.Lock()
		defer d.mu.Unlock()
		d.tried = time.Now()
		if err != nil {
			d.lastErr = err
			if d.meta != nil {
				return d.meta, nil
			}
			return nil, err
		}
		d.meta, d.fetched, d.lastErr = m, d.tried, nil
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*jwks.Metadata), nil
}

// discoveredKeys is the key source of a config with only an issuer: the
// jwks_uri comes from discovery, the keys from the process-wide RemoteSet,
// held while it is the discovered jwks_uri's and released when discovery
// names another one or the config is released.
type discoveredKeys struct {
	d    *discovered
	opts jwks.RemoteOptions
	last atomic.Pointer[remoteFor] // the set for the latest jwks_uri

	mu     sync.Mutex // serialises replacing last and closing
	closed bool
}

type remoteFor struct {
	url     string
	rs      *jwks.RemoteSet
	release func()
}

// Lookup runs on every JWT, cache hits included (they check their key is
// still in the set), so the RemoteSet is remembered instead of asked of the
// registry (a lock and a key built per call) each time.
func (k *discoveredKeys) Lookup(ctx context.Context, kid string) (*jwks.Key, error) {
	m, err := k.d.metadata(ctx)
	if err != nil {
		return nil, errcode.From(err).With("stage", "discovery")
	}
	r := k.last.Load()
	if r == nil || r.url != m.JWKSURI {
		r = k.follow(m.JWKSURI)
	}
	return r.rs.Lookup(ctx, kid)
}

// follow holds the set of url and releases the one it replaces. After
// close it still answers (a request in flight), but holds nothing.
func (k *discoveredKeys) follow(url string) *remoteFor {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r := k.last.Load(); r != nil && r.url == url {
		return r
	}
	rs, release := jwks.Remote(url, k.opts)
	r := &remoteFor{url: url, rs: rs, release: release}
	if k.closed {
		release()
		return r
	}
	if old := k.last.Swap(r); old != nil {
		old.release()
	}
	return r
}

// current is the RemoteSet behind the keys, once a token was looked up.
func (k *discoveredKeys) current() *jwks.RemoteSet {
	if r := k.last.Load(); r != nil {
		return r.rs
	}
	return nil
}

// close releases the set held.
func (k *discoveredKeys) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if r := k.last.Load(); r != nil {
		r.release()
	}
}

var _ jwks.Source = (*discoveredKeys)(nil)

// lazyIntrospect resolves introspection_endpoint from discovery on first use.
type lazyIntrospect struct {
	d      *discovered
	opts   introspect.Options
	mu     sync.Mutex
	c      *introspect.Client
	ep     string
	closed bool
}

func (l *lazyIntrospect) client(ctx context.Context) (*introspect.Client, error) {
	m, err := l.d.metadata(ctx)
	if err != nil {
		return nil, errcode.From(err).With("stage", "discovery")
	}
	if m.IntrospectionEndpoint == "" {
		return nil, errcode.New(errcode.ConfigInvalid, "the discovery document of %s has no introspection_endpoint: set introspection_endpoint", l.d.issuer)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil || l.ep != m.IntrospectionEndpoint {
		o := l.opts
		o.Endpoint = m.IntrospectionEndpoint
		c, err := introspect.New(o)
		if err != nil {
			return nil, errcode.Wrap(errcode.ConfigInvalid, err)
		}
		if l.c != nil {
			l.c.Close()
		}
		if l.closed {
			c.Close()
		}
		l.c, l.ep = c, m.IntrospectionEndpoint
	}
	return l.c, nil
}

// close closes the client in use (the compiled config is released).
func (l *lazyIntrospect) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.c != nil {
		l.c.Close()
	}
}
