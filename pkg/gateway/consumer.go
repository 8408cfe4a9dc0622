package gateway

import (
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// Consumers are cached process-wide so a warm request needs no
// load_consumer round trip. Kong's own kong.cache is invalidated by config
// events the Go side cannot see, so entries live a bounded time: a consumer
// deleted from kong.yaml stops resolving within ConsumerTTL. Misses are
// cached briefly too, so a bad mapping does not cost a round trip per request.
var (
	consumers = ttlcache.New[string, *Consumer](10000)
	// ConsumerTTL is how long a found consumer is trusted.
	ConsumerTTL = 60 * time.Second
	// ConsumerNegativeTTL is how long a missing consumer is remembered.
	ConsumerNegativeTTL = 5 * time.Second
)

// loadConsumer returns the consumer with id or username ref in workspace
// ws, nil if Kong has none. The cache key binds the workspace: Kong looks
// consumers up in the request's workspace, and "alice" in one workspace is
// not "alice" in another (Kong Enterprise; OSS has one).
func loadConsumer(k Kong, ws, ref string) (*Consumer, error) {
	key := ws + "\x00" + ref
	c, ok := consumers.Get(key)
	metrics.CacheLookup(metrics.CacheConsumers, ok)
	if ok {
		return c, nil
	}
	found, err := k.LoadConsumer(ref)
	if err != nil {
		return nil, err
	}
	c = &found
	// An unknown consumer comes back as an empty entity (Lua nil, err →
	// zero values: kong-go-plugins.md §3.5).
	if c.ID == "" {
		consumers.Set(key, nil, ConsumerNegativeTTL)
		return nil, nil
	}
	consumers.Set(key, c, ConsumerTTL)
	return c, nil
}
