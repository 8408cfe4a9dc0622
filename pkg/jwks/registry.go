package jwks

import (
	"sync"
	"time"
)

// registryKey identifies a shared RemoteSet: the URL and every option that
// changes what is fetched or how often.
type registryKey struct {
	url        string
	client     string // provider.Client.ConfigKey
	minRefresh time.Duration
	ttl        time.Duration
}

// registry holds one RemoteSet per key for the whole process, counted by
// its holders. Kong creates a new plugin instance on every configuration
// change; without sharing, each would refetch the set and start with a
// cold cache. A set is dropped when its last holder releases it (a
// compiled config released, or a discovered jwks_uri replaced), so
// configuration churn — rotated URLs, timeouts, refresh settings — does
// not grow the process. It grows with configured (or discovered) URLs of
// live configs, never with request input.
var registry = struct {
	sync.Mutex
	m map[registryKey]*registered
}{m: map[registryKey]*registered{}}

type registered struct {
	set  *RemoteSet
	refs int
}

// Remote returns the process-wide RemoteSet for url and opts, creating it
// on first use, and the function that releases this hold (idempotent).
// Options are compared after defaults are applied; clients are compared by
// ConfigKey (timeout, body limit, trusted CAs), and the first caller's
// client and clock are the ones used.
func Remote(url string, opts RemoteOptions) (*RemoteSet, func()) {
	opts = opts.withDefaults()
	k := registryKey{url, opts.Client.ConfigKey(), opts.MinRefresh, opts.TTL}
	registry.Lock()
	defer registry.Unlock()
	r, ok := registry.m[k]
	if !ok {
		r = &registered{set: NewRemote(url, opts)}
		registry.m[k] = r
	}
	r.refs++
	var once sync.Once
	return r.set, func() {
		once.Do(func() {
			registry.Lock()
			defer registry.Unlock()
			if r.refs--; r.refs == 0 && registry.m[k] == r {
				delete(registry.m, k)
			}
		})
	}
}

// Registered is the number of RemoteSets held in the process (tests, the
// churn measurements).
func Registered() int {
	registry.Lock()
	defer registry.Unlock()
	return len(registry.m)
}
