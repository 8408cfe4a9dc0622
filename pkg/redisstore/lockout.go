package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The lockout of one (user, client IP) pair is one Redis hash, so that each
// step is one atomic script on one key (one slot in a Cluster):
//
//	f      wrong passwords recorded in this window
//	w      end of the window in ms (Redis's clock); once f ≥ max, the end of the lock
//	s:<id> one attempt being verified (a reserved slot), valued with its lease's end
//
// An attempt reserves a slot before its password is hashed, and a pair
// whose failures plus live slots reach max is refused without hashing: at
// most max wrong passwords are verified per pair and window across every
// node sharing the Redis, whatever the concurrency (the guarantee of the
// process-local lockout, basicauth.Lockout, extended to the cluster). A
// slot whose node died before releasing it stops counting when its lease
// ends (LockLease), and the window does not end while a slot is live.
// Times come from Redis's own clock (TIME), never from the nodes'.
const scriptHead = `
local K = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// reserve: ARGV max, window ms, lease ms, slot id.
// Returns {0,0} reserved; {1, ms} locked for ms; {2, 0} every slot in flight.
var reserveScript = redis.NewScript(scriptHead + `
local max, window, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local f, w, live = 0, 0, 0
local h = redis.call('HGETALL', K)
for i = 1, #h, 2 do
  local k, v = h[i], tonumber(h[i + 1])
  if k == 'f' then f = v
  elseif k == 'w' then w = v
  elseif v > now then live = live + 1
  else redis.call('HDEL', K, k) end
end
if w <= now then f = 0; w = now + window end
if f >= max then return {1, w - now} end
if f + live >= max then return {2, 0} end
local l = now + lease
redis.call('HSET', K, 'f', f, 'w', w, 's:' .. ARGV[4], l)
redis.call('PEXPIREAT', K, math.max(w, l))
return {0, 0}
`)

// release: ARGV max, window ms, slot id, "1" when the password was right.
// Returns {failures, ms until the window ends}.
var releaseScript = redis.NewScript(scriptHead + `
local max, window, slot, ok = tonumber(ARGV[1]), tonumber(ARGV[2]), 's:' .. ARGV[3], ARGV[4] == '1'
local f, w, last = 0, 0, 0
local h = redis.call('HGETALL', K)
for i = 1, #h, 2 do
  local k, v = h[i], tonumber(h[i + 1])
  if k == 'f' then f = v
  elseif k == 'w' then w = v
  elseif k ~= slot and v > now and v > last then last = v end
end
redis.call('HDEL', K, slot)
if w <= now then f = 0; w = now + window end
if ok then f = 0
else
  f = f + 1
  if f >= max then w = now + window end
end
if f == 0 and last == 0 then redis.call('DEL', K); return {0, 0} end
redis.call('HSET', K, 'f', f, 'w', w)
redis.call('PEXPIREAT', K, math.max(w, last))
return {f, w - now}
`)

// check: ARGV max. The path of a password the node has cached as right:
// refused while the pair is locked, otherwise its failures are cleared.
// Returns {0,0} or {1, ms} locked.
var checkScript = redis.NewScript(scriptHead + `
local max = tonumber(ARGV[1])
local h = redis.call('HGETALL', K)
if #h == 0 then return {0, 0} end
local f, w, live = 0, 0, 0
for i = 1, #h, 2 do
  local k, v = h[i], tonumber(h[i + 1])
  if k == 'f' then f = v
  elseif k == 'w' then w = v
  elseif v > now then live = live + 1 end
end
if f >= max and w > now then return {1, w - now} end
if live == 0 then redis.call('DEL', K) elseif f > 0 then redis.call('HSET', K, 'f', 0) end
return {0, 0}
`)

// LockLease is how long a reserved slot counts without being released: far
// beyond any password hash, short enough that a node killed mid-hash does
// not hold a slot of the pair for long.
const LockLease = 30 * time.Second

// LockState is Redis's answer for a pair.
type LockState struct {
	// Locked: max failures reached; RetryAfter is the rest of the lock.
	Locked bool
	// Busy: no failure left that is not already being verified.
	Busy       bool
	RetryAfter time.Duration
}

// NewSlot returns a random slot id for LockReserve.
func NewSlot() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// LockReserve takes a slot of pair (a hash of the user name and client IP)
// for one verification, unless the pair is locked or every slot is taken.
func (s *Store) LockReserve(ctx context.Context, rep Reporter, pair []byte, max int, window time.Duration, slot string) (st LockState, local bool, err error) {
	local, err = s.Do(ctx, rep, func(ctx context.Context, rdb redis.UniversalClient) error {
		r, err := reserveScript.Run(ctx, rdb, []string{s.Key("lock", pair)}, max, window.Milliseconds(), LockLease.Milliseconds(), slot).Int64Slice()
		if err != nil {
			return err
		}
		st, err = lockState(r)
		return err
	})
	return st, local, err
}

// LockRelease records the verdict of the slot's verification: a wrong
// password counts (and locks the pair at max), a right one clears it. st
// reports the lock this verdict completed, if any.
func (s *Store) LockRelease(ctx context.Context, rep Reporter, pair []byte, max int, window time.Duration, slot string, ok bool) (st LockState, local bool, err error) {
	verdict := "0"
	if ok {
		verdict = "1"
	}
	local, err = s.Do(ctx, rep, func(ctx context.Context, rdb redis.UniversalClient) error {
		r, err := releaseScript.Run(ctx, rdb, []string{s.Key("lock", pair)}, max, window.Milliseconds(), slot, verdict).Int64Slice()
		if err != nil {
			return err
		}
		if len(r) != 2 {
			return fmt.Errorf("lockout script answered %v", r)
		}
		if r[0] >= int64(max) {
			st = LockState{Locked: true, RetryAfter: time.Duration(r[1]) * time.Millisecond}
		}
		return nil
	})
	return st, local, err
}

// LockCheck is the path of a password already known to be right: it
// reports a lock, and otherwise clears the pair's failures. One round trip.
func (s *Store) LockCheck(ctx context.Context, rep Reporter, pair []byte, max int) (st LockState, local bool, err error) {
	local, err = s.Do(ctx, rep, func(ctx context.Context, rdb redis.UniversalClient) error {
		r, err := checkScript.Run(ctx, rdb, []string{s.Key("lock", pair)}, max).Int64Slice()
		if err != nil {
			return err
		}
		st, err = lockState(r)
		return err
	})
	return st, local, err
}

func lockState(r []int64) (LockState, error) {
	if len(r) != 2 {
		return LockState{}, fmt.Errorf("lockout script answered %v", r)
	}
	switch r[0] {
	case 0:
		return LockState{}, nil
	case 1:
		return LockState{Locked: true, RetryAfter: time.Duration(r[1]) * time.Millisecond}, nil
	case 2:
		return LockState{Busy: true, RetryAfter: time.Second}, nil
	}
	return LockState{}, fmt.Errorf("lockout script answered %v", r)
}
