package oauth

import (
	"context"
	"encoding/hex"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/dpop"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// replayKind is the Redis key kind of a spent DPoP proof.
const replayKind = "dpop-jti"

// sharedReplay is the DPoP replay store with policy redis: a proof spent
// on one gateway node is a replay on every other (RFC 9449 §11.1 with
// several nodes; issue 14). Redis decides with one SET NX PX; the
// process's own store records the proof too, so a replay on this node is
// still caught if Redis fails later, and a proof spent here while Redis
// was down is not accepted again when it comes back. When a
// fault-tolerant Redis fails, the process's store decides alone; a strict
// one refuses with REDIS_UNAVAILABLE.
type sharedReplay struct {
	store *redisstore.Store
	local dpop.ReplayStore
}

func (s *sharedReplay) FirstSeen(ctx context.Context, owner, key string, ttl time.Duration) (bool, error) {
	first, local, err := s.store.Claim(ctx, redisstore.ReporterFrom(ctx), replayKind, replayHash(key), ttl)
	if err != nil {
		return false, err
	}
	localFirst, localErr := s.local.FirstSeen(ctx, owner, key, ttl)
	if local {
		return localFirst, localErr
	}
	// Redis is the authority; a full local store (or a key's full share
	// of it) only loses the outage-time safety net, so it does not refuse
	// here.
	return first && (localFirst || localErr != nil), nil
}

// replayHash is the 128-bit hash inside a dpop.ReplayKey ("dpop:<hex>"),
// so the Redis key is <prefix>dpop-jti:<hex>.
func replayHash(key string) []byte {
	if h, err := hex.DecodeString(strings.TrimPrefix(key, "dpop:")); err == nil {
		return h
	}
	return []byte(key)
}

var _ dpop.ReplayStore = (*sharedReplay)(nil)
