package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/ttlcache"
)

// ReplayCache answers "has this been seen within ttl?" exactly once per
// key: the first call for a key returns true, every later one within ttl
// false. With policy redis it holds across every node sharing the Redis;
// with policy local (store nil), or when a fault-tolerant store's Redis
// fails, it holds within this process. It is the replay check of a DPoP
// proof's jti (RFC 9449 §11.1) and of anything else that must be used once.
type ReplayCache interface {
	// FirstSeen claims key (a hash of the value, never the value) for ttl.
	// err is REDIS_UNAVAILABLE only when the store is strict and Redis
	// failed; the caller refuses then.
	FirstSeen(ctx context.Context, rep Reporter, key [32]byte, ttl time.Duration) (first bool, err error)
}

// NewReplayCache returns a ReplayCache for one kind of value (e.g.
// "dpop-jti": part of the Redis key), over store (nil with policy local).
// capacity bounds the process-local set; when it is full the entries
// closest to expiry go first, so capacity must cover the values a client
// can present within ttl for the guarantee to hold locally.
func NewReplayCache(store *Store, kind string, capacity int) ReplayCache {
	return &replayCache{store: store, kind: kind, local: ttlcache.New[[32]byte, struct{}](capacity)}
}

type replayCache struct {
	store *Store
	kind  string
	mu    sync.Mutex // makes the local check-and-set atomic
	local *ttlcache.Cache[[32]byte, struct{}]
}

func (r *replayCache) FirstSeen(ctx context.Context, rep Reporter, key [32]byte, ttl time.Duration) (bool, error) {
	if r.store != nil {
		first, local, err := r.store.Claim(ctx, rep, r.kind, key[:], ttl)
		if err != nil {
			return false, err
		}
		if !local {
			// Remember it locally too: if Redis fails later, a replay of
			// it on this node is still caught.
			r.claimLocal(key, ttl)
			return first, nil
		}
	}
	return r.claimLocal(key, ttl), nil
}

func (r *replayCache) claimLocal(key [32]byte, ttl time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.local.Get(key); seen {
		return false
	}
	r.local.Set(key, struct{}{}, ttl)
	return true
}

var _ ReplayCache = (*replayCache)(nil)
