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

// registry holds one RemoteSet per key for the whole process. Kong creates
// a new plugin instance on every configuration change; without sharing,
// each would refetch the set and start with a cold cache. It grows only
// with configured URLs, never with request input.
var registry = struct {
	sync.Mutex
	m map[registryKey]*RemoteSet
}{m: map[registryKey]*RemoteSet{}}

// Remote returns the process-wide RemoteSet for url and opts, creating it
// on first use. Options are compared after defaults are applied; clients
// are compared by ConfigKey (timeout, body limit, trusted CAs), and the
// first caller's client and clock are the ones used.
func Remote(url string, opts RemoteOptions) *RemoteSet {
	opts = opts.withDefaults()
	k := registryKey{url, opts.Client.ConfigKey(), opts.MinRefresh, opts.TTL}
	registry.Lock()
	defer registry.Unlock()
	if r, ok := registry.m[k]; ok {
		return r
	}
	r := NewRemote(url, opts)
	registry.m[k] = r
	return r
}
