package oauth

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/kong-authkit/kong-authkit/pkg/dpop"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// nonceKeyKind is the Redis key kind of a DPoP nonce secret:
// <key_prefix>dpop-nonce-key:<hex of period seconds ‖ period start>.
const nonceKeyKind = "dpop-nonce-key"

// nonceKeyLen is a nonce secret's length: 256 bits for HMAC-SHA256.
const nonceKeyLen = 32

// sharedNonceKeys are the DPoP nonce secrets with policy redis (RFC 9449
// §8, §9 with several nodes; issue 23): one random secret per nonce
// period, created by whichever node needs it first (SET NX PX) and read
// by the others, so a nonce issued by one node is accepted by every node
// sharing the Redis and key_prefix. A secret lives three periods in
// Redis, one more than its nonces are valid. Each config keeps the
// secrets it read (at most maxCachedNonceKeys, all of live periods), so
// Redis is asked about once per period per node. The secret is in the
// value, never in the key; whoever can read Redis can make nonces, which
// prove freshness, not identity (a proof still needs the client's key).
type sharedNonceKeys struct {
	store *redisstore.Store
	group singleflight.Group
	mu    sync.RWMutex
	cache map[nonceKeyID][]byte // values never written after publication
}

type nonceKeyID struct {
	period time.Duration
	issued int64
}

const maxCachedNonceKeys = 8

func newSharedNonceKeys(store *redisstore.Store) *sharedNonceKeys {
	return &sharedNonceKeys{store: store, cache: map[nonceKeyID][]byte{}}
}

// NonceKey implements dpop.NonceKeys. A Redis failure gives local=true
// (fault_tolerant: this node's nonces, from its process secret, until
// Redis answers) or the store's REDIS_UNAVAILABLE (strict).
func (k *sharedNonceKeys) NonceKey(ctx context.Context, period time.Duration, issued int64) ([]byte, bool, error) {
	id := nonceKeyID{period, issued}
	k.mu.RLock()
	key := k.cache[id]
	k.mu.RUnlock()
	if key != nil {
		return key, false, nil
	}
	v, err, _ := k.group.Do(strconv.FormatInt(int64(period), 10)+"/"+strconv.FormatInt(issued, 10), func() (any, error) {
		key, local, err := k.fetch(ctx, id)
		if err == nil && !local {
			k.remember(id, key)
		}
		return key, err
	})
	if err != nil {
		return nil, false, err
	}
	key, _ = v.([]byte)
	return key, key == nil, nil
}

func (k *sharedNonceKeys) remember(id nonceKeyID, key []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for old := range k.cache {
		// Nonces are valid for two periods from their start.
		if old.issued+2*int64(old.period/time.Second) <= id.issued || len(k.cache) >= maxCachedNonceKeys {
			delete(k.cache, old)
		}
	}
	k.cache[id] = key
}

// fetch creates the period's secret unless a node did, and reads it.
func (k *sharedNonceKeys) fetch(ctx context.Context, id nonceKeyID) (key []byte, local bool, err error) {
	var h [16]byte
	binary.BigEndian.PutUint64(h[:8], uint64(id.period/time.Second))
	binary.BigEndian.PutUint64(h[8:], uint64(id.issued))
	name := k.store.Key(nonceKeyKind, h[:])
	fresh := make([]byte, nonceKeyLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, false, err
	}
	local, err = k.store.Do(ctx, redisstore.ReporterFrom(ctx), func(ctx context.Context, rdb redis.UniversalClient) error {
		for range 2 { // the key may expire between SET NX and GET
			ok, err := rdb.SetNX(ctx, name, fresh, 3*id.period).Result()
			if err != nil || ok {
				key = fresh
				return err
			}
			b, err := rdb.Get(ctx, name).Bytes()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err == nil && len(b) != nonceKeyLen {
				err = fmt.Errorf("%s holds %d bytes, not a %d-byte nonce secret", name, len(b), nonceKeyLen)
			}
			key = b
			return err
		}
		return fmt.Errorf("%s expired twice between SET NX and GET", name)
	})
	if err != nil || local {
		return nil, local, err
	}
	return key, false, nil
}

var _ dpop.NonceKeys = (*sharedNonceKeys)(nil)
