package jwks

import (
	"runtime"
	"sync"
	"time"
	"weak"
)

// registryKey identifies a shared RemoteSet: the URL and every option that
// changes what is fetched or how often.
type registryKey struct {
	url        string
	client     string // provider.Client.ConfigKey
	minRefresh time.Duration
	ttl        time.Duration
}

// registry holds one RemoteSet per key for the whole process. Kong creates
// a new plugin instance on every configuration change; without sharing,
// each would refetch the set and start with a cold cache. It holds the
// sets weakly: a set lives while a compiled config (or a request) uses it,
// and its entry goes when the garbage collector reclaims it, so rotating
// jwks_uri through config changes does not grow the registry. It never
// grows with request input.
var registry = struct {
	sync.Mutex
	m map[registryKey]weak.Pointer[RemoteSet]
}{m: map[registryKey]weak.Pointer[RemoteSet]{}}

// Remote returns the process-wide RemoteSet for url and opts, creating it
// on first use. Options are compared after defaults are applied; clients
// are compared by ConfigKey (timeout, body limit, trusted CAs), and the
// first caller's client and clock are the ones used. Keep the set for as
// long as it is used: the registry does not keep it alive.
func Remote(url string, opts RemoteOptions) *RemoteSet {
	opts = opts.withDefaults()
	k := registryKey{url, opts.Client.ConfigKey(), opts.MinRefresh, opts.TTL}
	registry.Lock()
	defer registry.Unlock()
	if r := registry.m[k].Value(); r != nil {
		return r
	}
	r := NewRemote(url, opts)
	wp := weak.Make(r)
	registry.m[k] = wp
	runtime.AddCleanup(r, forget, registryEntry{k, wp})
	return r
}

type registryEntry struct {
	key registryKey
	wp  weak.Pointer[RemoteSet]
}

// forget drops a reclaimed set's entry, unless a new set took its key.
func forget(e registryEntry) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m[e.key] == e.wp {
		delete(registry.m, e.key)
	}
}

// RegisteredSets is the number of sets in the registry (tests).
func RegisteredSets() int {
	registry.Lock()
	defer registry.Unlock()
	return len(registry.m)
}
