package oauth

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

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

// discoveries shares one discovery per issuer and client settings across
// the process, held weakly (like jwks's registry): an entry lives while a
// compiled config uses it, so issuers rotated through config changes do
// not grow the map.
var (
	discoveriesMu sync.Mutex
	discoveries   = map[string]weak.Pointer[discovered]{}
)

func discover(issuer string, c *provider.Client, minRefresh, ttl time.Duration) *discovered {
	key := issuer + "\x00" + c.ConfigKey() + "\x00" + minRefresh.String() + "\x00" + ttl.String()
	discoveriesMu.Lock()
	defer discoveriesMu.Unlock()
	if d := discoveries[key].Value(); d != nil {
		return d
	}
	d := &discovered{issuer: issuer, client: c, minRefresh: minRefresh, ttl: ttl}
	wp := weak.Make(d)
	discoveries[key] = wp
	runtime.AddCleanup(d, func(key string) {
		discoveriesMu.Lock()
		defer discoveriesMu.Unlock()
		if discoveries[key] == wp {
			delete(discoveries, key)
		}
	}, key)
	return d
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
// jwks_uri comes from discovery, the keys from the process-wide RemoteSet.
type discoveredKeys struct {
	d    *discovered
	opts jwks.RemoteOptions
	last atomic.Pointer[remoteFor] // the set for the latest jwks_uri
}

type remoteFor struct {
	url string
	rs  *jwks.RemoteSet
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
		r = &remoteFor{url: m.JWKSURI, rs: jwks.Remote(m.JWKSURI, k.opts)}
		k.last.Store(r)
	}
	return r.rs.Lookup(ctx, kid)
}

// current is the RemoteSet behind the keys, once discovery succeeded.
func (k *discoveredKeys) current() *jwks.RemoteSet {
	k.d.mu.RLock()
	m := k.d.meta
	k.d.mu.RUnlock()
	if m == nil {
		return nil
	}
	return jwks.Remote(m.JWKSURI, k.opts)
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
