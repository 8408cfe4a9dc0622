package dpop

import (
	"hash/maphash"
	"os"
	"strconv"
	"sync"
)

// ownerShards count each owner's unexpired entries in a MemoryStore, so
// that one client key's proofs fill only its own share (issue 23: with
// one valid bound token a client could otherwise spend the whole store
// inside one lifetime and every other DPoP request on the node would be
// refused). An owner is a 64-bit maphash of the thumbprint under a random
// per-process seed: a client cannot aim its key at another's count.
type ownerShards [shards]ownerShard

type ownerShard struct {
	mu sync.Mutex
	n  map[uint64]int32 // owner → unexpired entries; absent when 0
}

var ownerSeed = maphash.MakeSeed()

func ownerHash(thumbprint string) uint64 { return maphash.String(ownerSeed, thumbprint) }

// charge counts one more entry for o, unless o already holds share.
func (s *ownerShards) charge(o uint64, share int32) bool {
	sh := &s[o%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.n[o] >= share {
		return false
	}
	sh.n[o]++
	return true
}

// release uncounts one entry of o.
func (s *ownerShards) release(o uint64) {
	sh := &s[o%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.n[o] <= 1 {
		delete(sh.n, o) // the map follows the live owners
		return
	}
	sh.n[o]--
}

// held is o's count.
func (s *ownerShards) held(o uint64) int32 {
	sh := &s[o%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.n[o]
}

// EnvTestReplayShare names a TEST-ONLY environment variable: a positive
// integer that replaces the per-key share of the process's replay store
// (ProcessStore), so that tests through the plugin binary can exhaust a
// share with a few requests instead of 65,536. It is read once, when the
// store is made; never set it in production (a small share refuses busy
// clients with OAUTH_DPOP_REPLAY_SHARE_FULL).
const EnvTestReplayShare = "AUTHKIT_TEST_DPOP_REPLAY_SHARE"

// testShare is EnvTestReplayShare's value, or 0 (the default share).
func testShare() int {
	n, err := strconv.Atoi(os.Getenv(EnvTestReplayShare))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
