package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// putNewerScript stores ARGV[2] under KEYS[1] for ARGV[3] ms unless the
// key holds a value of a later version. Values start with their version,
// a fixed-width string (VersionWidth), so versions compare as strings.
var putNewerScript = redis.NewScript(`
local old = redis.call('GET', KEYS[1])
if old and string.sub(old, 1, #ARGV[1]) > ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// VersionWidth is the width of a value's version (Version).
const VersionWidth = 17

// Version renders a value's version: the time it was obtained in ms, and a
// tie-breaker digit (0–9) where a later digit wins at equal times.
func Version(at time.Time, tie int) string {
	return fmt.Sprintf("%016d%d", at.UnixMilli(), tie%10)
}

// Get returns the value stored under kind and hash h, without its
// version, and whether there was one.
func (s *Store) Get(ctx context.Context, rep Reporter, kind string, h []byte) (val []byte, found, local bool, err error) {
	local, err = s.Do(ctx, rep, func(ctx context.Context, rdb redis.UniversalClient) error {
		b, err := rdb.Get(ctx, s.Key(kind, h)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(b) < VersionWidth {
			return nil // not ours: treated as absent
		}
		val, found = b[VersionWidth:], true
		return nil
	})
	return val, found, local, err
}

// PutNewer stores val under kind and hash h for ttl, unless Redis already
// holds a value of a later version: of two nodes writing the same key, the
// later answer wins whatever order the writes arrive in.
func (s *Store) PutNewer(ctx context.Context, rep Reporter, kind string, h []byte, version string, val []byte, ttl time.Duration) (local bool, err error) {
	if len(version) != VersionWidth {
		return false, fmt.Errorf("redisstore: version %q is not %d characters", version, VersionWidth)
	}
	ms := ttl.Milliseconds()
	if ms < 1 {
		return false, nil
	}
	return s.Do(ctx, rep, func(ctx context.Context, rdb redis.UniversalClient) error {
		return putNewerScript.Run(ctx, rdb, []string{s.Key(kind, h)}, version, val, ms).Err()
	})
}

// Claim records kind and hash h for ttl and reports whether this call was
// the first to do so within ttl, across every node sharing the Redis (SET
// NX PX: atomic). It is the "seen once" primitive of a replay cache (DPoP
// jti, RFC 9449 §11.1): first false means a replay.
func (s *Store) Claim(ctx context.Context, rep Reporter, kind string, h []byte, ttl time.Duration) (first, local bool, err error) {
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	local, err = s.Do(ctx, rep, func(ctx context.Context, rdb redis.UniversalClient) error {
		ok, err := rdb.SetNX(ctx, s.Key(kind, h), "1", time.Duration(ms)*time.Millisecond).Result()
		first = ok
		return err
	})
	return first, local, err
}
