package jwks

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

const (
	// DefaultMinRefresh is the usual least time between two fetches of one
	// set (authkit-oauth's jwks_min_refresh_seconds default).
	DefaultMinRefresh = 10 * time.Second
	// DefaultTTL is the age after which a set is refetched on use
	// (authkit-oauth's jwks_cache_ttl_seconds default).
	DefaultTTL = time.Hour
)

// RemoteOptions tune a RemoteSet. The zero value fetches on every trigger
// (no MinRefresh) and keeps keys for DefaultTTL.
type RemoteOptions struct {
	// Client fetches the set. Default provider.New(provider.DefaultTimeout).
	Client *provider.Client
	// MinRefresh is the least time between two fetches, whatever triggers
	// them (unknown kid, expiry, retry after a failure). 0 is off: every
	// trigger may fetch, still one fetch at a time. DefaultMinRefresh is
	// the usual value.
	MinRefresh time.Duration
	// TTL is how long fetched keys are used before a refetch; 0 means
	// DefaultTTL.
	TTL time.Duration
	// Now is the clock (tests). Default time.Now. Not part of the Remote
	// registry key: the first caller's clock wins.
	Now func() time.Time
}

func (o RemoteOptions) withDefaults() RemoteOptions {
	if o.Client == nil {
		o.Client = provider.New(provider.DefaultTimeout)
	}
	if o.MinRefresh < 0 {
		o.MinRefresh = 0
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// RemoteSet is a JWK Set fetched from a provider's jwks_uri (RFC 8414 §2,
// OIDC Discovery §3), modelled on go-oidc's RemoteKeySet:
//
//   - the first Lookup fetches; later ones read the cached keys under a
//     read lock;
//   - an unknown kid triggers a refetch (the provider may have rotated its
//     keys, RFC 7517 §4.5), but fetches happen at most once per MinRefresh
//     whatever triggers them: within the interval an unknown kid is
//     KeyNotFound at once, so a flood of random kids costs one fetch;
//   - keys older than TTL are refetched on the request path by one
//     goroutine while the others keep using the current keys;
//   - at most one fetch is in flight (singleflight); a fetch is detached
//     from the request that started it, so one cancelled request cannot fail
//     the others waiting on it, and is bounded by the client's timeout;
//   - a failed fetch keeps the last good keys (stale-if-error) and is
//     recorded in LastError; with no good keys yet, Lookup returns it.
//
// A fetched set is parsed with allowOct false: a symmetric key from the
// network would let whoever serves the set mint tokens.
type RemoteSet struct {
	url        string
	client     *provider.Client
	minRefresh time.Duration
	ttl        time.Duration
	now        func() time.Time

	mu        sync.RWMutex
	set       *Set      // last good set, nil until a fetch succeeds
	fetchedAt time.Time // when set was fetched
	attemptAt time.Time // when the last fetch started, good or not
	lastErr   error     // the last fetch's error, nil after a success

	fetching atomic.Bool
	fetches  atomic.Int64
	reported atomic.Int64 // the fetch count whose failure was last reported
	group    singleflight.Group
}

// NewRemote returns a RemoteSet of its own for url. Plugins use Remote,
// which shares one per URL and options across the process.
func NewRemote(url string, opts RemoteOptions) *RemoteSet {
	opts = opts.withDefaults()
	return &RemoteSet{url: url, client: opts.Client, minRefresh: opts.MinRefresh, ttl: opts.TTL, now: opts.Now}
}

// URL is the jwks_uri the set is fetched from.
func (r *RemoteSet) URL() string { return r.url }

// Fetches counts the HTTP fetches attempted so far.
func (r *RemoteSet) Fetches() int64 { return r.fetches.Load() }

// FailureToReport returns the error of the most recent fetch the first
// time it is asked after that fetch failed, and nil otherwise: each failed
// fetch is logged once, not once per request (fetches are themselves
// rate-limited by minRefresh). The mark lives and goes with the set.
func (r *RemoteSet) FailureToReport() error {
	err := r.LastError()
	if err == nil {
		return nil
	}
	if n := r.fetches.Load(); r.reported.Swap(n) == n {
		return nil
	}
	return err
}

// LastError is the error of the most recent fetch, nil if it succeeded or
// none happened. While it is set, Lookup may be serving stale keys; the
// plugin layer logs it.
func (r *RemoteSet) LastError() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.lastErr == nil {
		return nil
	}
	return r.lastErr
}

// Current returns the last good set (nil before the first successful
// fetch), e.g. to log Set.Skipped.
func (r *RemoteSet) Current() *Set {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.set
}

type snapshot struct {
	set       *Set
	fetchedAt time.Time
	attemptAt time.Time
	lastErr   error
}

func (r *RemoteSet) snapshot() snapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return snapshot{r.set, r.fetchedAt, r.attemptAt, r.lastErr}
}

// due reports whether MinRefresh has passed since the last attempt.
func (r *RemoteSet) due(s snapshot, now time.Time) bool {
	return s.attemptAt.IsZero() || now.Sub(s.attemptAt) >= r.minRefresh
}

// Lookup returns the key with this kid (see Set.Lookup for kid ""),
// fetching or refreshing the set as described on RemoteSet. A key served
// from the set held at the start, without a fetch, is a cache hit;
// anything else (a fetch, a refresh, no such key) a miss.
func (r *RemoteSet) Lookup(ctx context.Context, kid string) (*Key, error) {
	k, hit, err := r.lookup(ctx, kid)
	metrics.CacheLookup(metrics.CacheJWKS, hit)
	return k, err
}

func (r *RemoteSet) lookup(ctx context.Context, kid string) (*Key, bool, error) {
	s := r.snapshot()
	now := r.now()

	if s.set == nil {
		// No good keys yet: fetch, join the fetch in flight, or — within
		// MinRefresh of a failed attempt — fail fast with its error rather
		// than hammer a provider that is down.
		if r.due(s, now) || r.fetching.Load() || s.lastErr == nil {
			if err := r.refresh(ctx); err != nil {
				return nil, false, err
			}
			s = r.snapshot()
		}
		if s.set == nil {
			return nil, false, r.failure(s.lastErr, kid)
		}
		k, err := s.set.Lookup(ctx, kid)
		return k, false, err
	}

	refreshed := false
	if now.Sub(s.fetchedAt) >= r.ttl && r.due(s, now) && !r.fetching.Load() {
		// Expired: this goroutine refreshes; a failure keeps the old keys.
		if err := r.refresh(ctx); err != nil {
			return nil, false, err
		}
		s = r.snapshot()
		refreshed = true
	}

	if k, ok := s.set.find(kid); ok {
		return k, !refreshed, nil
	}
	if kid != "" && (r.due(s, now) || r.fetching.Load()) {
		// Unknown kid: the provider may have rotated keys.
		if err := r.refresh(ctx); err != nil {
			return nil, false, err
		}
		s = r.snapshot()
		if k, ok := s.set.find(kid); ok {
			return k, false, nil
		}
	}
	if s.lastErr != nil && kid != "" {
		// The set could not be refreshed, so "unknown kid" is not proven:
		// report the provider's failure (5xx), not the token's (401).
		return nil, false, r.failure(s.lastErr, kid)
	}
	return nil, false, s.set.notFound(kid)
}

// refresh fetches the set if MinRefresh has passed, or waits for the fetch
// in flight. The only error is the caller's context ending first.
func (r *RemoteSet) refresh(ctx context.Context) error {
	fetchCtx := context.WithoutCancel(ctx)
	ch := r.group.DoChan("", func() (any, error) {
		r.fetchIfDue(fetchCtx)
		return nil, nil
	})
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return errcode.Wrap(errcode.ProviderTimeout, ctx.Err()).With("url", r.url)
	}
}

func (r *RemoteSet) fetchIfDue(ctx context.Context) {
	start := r.now()
	r.mu.Lock()
	if !r.attemptAt.IsZero() && start.Sub(r.attemptAt) < r.minRefresh {
		r.mu.Unlock()
		return // someone fetched while we were queueing
	}
	r.attemptAt = start
	r.mu.Unlock()

	r.fetching.Store(true)
	defer r.fetching.Store(false)
	r.fetches.Add(1)
	set, err := r.fetch(ctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.lastErr = err
		return
	}
	r.set, r.fetchedAt, r.lastErr = set, r.now(), nil
}

func (r *RemoteSet) fetch(ctx context.Context) (set *Set, err error) {
	defer func(start time.Time) { metrics.ProviderCall(metrics.EndpointJWKS, start, err) }(time.Now())
	resp, err := r.client.GetJSON(ctx, r.url, nil)
	if err != nil {
		return nil, err
	}
	set, err = Parse(resp.Body, false)
	if err != nil {
		return nil, errcode.Wrap(errcode.ProviderInvalidResp, err).With("url", r.url)
	}
	return set, nil
}

// failure is a recorded fetch error as one caller sees it. The recorded
// error is shared by every caller; With returns a copy.
func (r *RemoteSet) failure(err error, kid string) *errcode.Error {
	if err == nil { // unreachable: no set and no error means no attempt
		return errcode.New(errcode.InternalError, "key set %s has neither keys nor a fetch error", r.url)
	}
	e := errcode.From(err)
	if kid != "" {
		e = e.With("kid", boundKid(kid))
	}
	return e
}

var _ Source = (*RemoteSet)(nil)

// Options are the options in effect (defaults applied); Client and Now
// are the ones the set uses.
func (r *RemoteSet) Options() RemoteOptions {
	return RemoteOptions{Client: r.client, MinRefresh: r.minRefresh, TTL: r.ttl, Now: r.now}
}
