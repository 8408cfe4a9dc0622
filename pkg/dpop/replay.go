package dpop

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"time"
)

// ReplayStore remembers the proofs already accepted (RFC 9449 §11.1: "the
// server can store, in the context of the target URI, the jti value of
// each DPoP proof for the time window in which the respective DPoP proof
// JWT would be accepted").
//
// FirstSeen records key for ttl unless it is recorded already, and reports
// whether this call recorded it: Redis's `SET key 1 NX PX ttl`. It must be
// atomic: of N concurrent calls with one key, exactly one returns true. An
// error refuses the proof (fail closed). Keys are ReplayKey values: the
// same proof gives the same key on every gateway node, so a cluster-wide
// store (issue 14) can implement this interface as is. owner is the
// proof key's thumbprint: a bounded store charges the entry to it (see
// ErrShareFull); a store without shares ignores it.
type ReplayStore interface {
	FirstSeen(ctx context.Context, owner, key string, ttl time.Duration) (bool, error)
}

// ErrStoreFull is returned by a MemoryStore that holds its capacity of
// unexpired proofs: it refuses rather than forget one that could be
// replayed.
var ErrStoreFull = errors.New("dpop replay store is full")

// ErrShareFull is returned by a MemoryStore when the proof's key
// (its owner, the thumbprint) holds its share of the store in unexpired
// proofs: one client that spends proofs as fast as it can exhausts its
// own share, not the store every other client needs (issue 23).
var ErrShareFull = errors.New("this key's share of the dpop replay store is full")

// ReplayKey is the store key of a proof: hex SHA-256 of the length-prefixed
// key thumbprint and jti, cut to 128 bits. The thumbprint is part of it so
// that a jti is only unique per client key (RFC 9449 §4.2: "the jti
// ... used to prevent replay"): one client cannot use up another's jti.
// Length prefixes keep ("ab","c") and ("a","bc") apart.
func ReplayKey(thumbprint, jti string) string {
	h := sha256.New()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(thumbprint)))
	h.Write(n[:])
	h.Write([]byte(thumbprint))
	binary.BigEndian.PutUint32(n[:], uint32(len(jti)))
	h.Write(n[:])
	h.Write([]byte(jti))
	var sum [sha256.Size]byte
	return "dpop:" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// DefaultCapacity is how many unexpired proofs a MemoryStore holds: at the
// default lifetime of 300 s plus leeway, about 2,900 fresh proofs per
// second per plugin process, far beyond what one process verifies (one
// signature per proof). About 56 bytes each, 56 MiB when full.
const DefaultCapacity = 1 << 20

// DefaultShareDivisor sets a key's default share of a MemoryStore:
// capacity/16, 65,536 unexpired proofs at DefaultCapacity (about 200
// proofs a second per client key per process at the default lifetime).
// Sixteen bound tokens with distinct keys are then needed to fill the
// store, and each such token is an issued credential the provider can
// revoke; the log names the key that filled its share.
const DefaultShareDivisor = 16

const shards = 64

// MemoryStore is a process-wide ReplayStore: O(1) per call, bounded.
//
// Each shard holds a map of 64-bit keys (the first 64 bits of a
// ReplayKey; a false "replayed" needs a 64-bit collision among proofs
// alive at once, and ReplayKey is a hash, so a client cannot aim one at
// another's proof) to expiry times, and a FIFO of insertions. Every call
// first drops the expired entries at the FIFO's head (amortised O(1):
// each entry is queued and dropped once; see sweep for mixed lifetimes).
// When a shard is full of unexpired entries, FirstSeen fails with
// ErrStoreFull instead of evicting one: an evicted jti could be replayed.
//
// Each entry is charged to its owner (64 bits of a hash of the proof
// key's thumbprint) in a separate set of owner shards; an owner holding
// its share is refused with ErrShareFull. Lock order: a key shard, then
// an owner shard.
type MemoryStore struct {
	shard    [shards]storeShard
	owners   ownerShards
	perShard int
	share    int32
	now      func() time.Time
}

type storeShard struct {
	mu    sync.Mutex
	m     map[uint64]entry // key → expiry and owner
	q     []queued
	head  int
	swept int64 // last sweep, unix ns
}

type entry struct {
	exp   int64 // unix ns
	owner uint64
}

type queued struct {
	key uint64
	exp int64
}

// NewMemoryStore returns a store for capacity unexpired proofs
// (DefaultCapacity when ≤ 0), of which one owner holds at most share
// (capacity/DefaultShareDivisor when ≤ 0, at least 1).
func NewMemoryStore(capacity, share int) *MemoryStore {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	if share <= 0 {
		share = max(capacity/DefaultShareDivisor, 1)
	}
	s := &MemoryStore{perShard: (capacity + shards - 1) / shards, share: int32(min(share, capacity)), now: time.Now}
	for i := range s.shard {
		s.shard[i].m = map[uint64]entry{}
		s.owners[i].n = map[uint64]int32{}
	}
	return s
}

// FirstSeen implements ReplayStore.
func (s *MemoryStore) FirstSeen(_ context.Context, owner, key string, ttl time.Duration) (bool, error) {
	k, o, now := hash64(key), ownerHash(owner), s.now().UnixNano()
	first, err := s.record(k, o, now, ttl)
	if errors.Is(err, ErrShareFull) {
		// The owner's entries live in every shard, and a shard drops its
		// expired entries only when it is used: drop them all (one lock
		// at a time, never two key shards at once), then ask again.
		s.expireAll(now)
		first, err = s.record(k, o, now, ttl)
	}
	return first, err
}

func (s *MemoryStore) record(k, o uint64, now int64, ttl time.Duration) (bool, error) {
	sh := &s.shard[k%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.expire(now, &s.owners)
	if e, ok := sh.m[k]; ok && e.exp > now {
		return false, nil
	}
	if len(sh.q)-sh.head > 2*s.perShard || len(sh.m) >= s.perShard && now-sh.swept > int64(time.Second) {
		sh.sweep(now, &s.owners)
	}
	if len(sh.m) >= s.perShard {
		return false, ErrStoreFull
	}
	if old, ok := sh.m[k]; ok {
		// Expired, not yet dropped (behind a longer-lived head): its
		// owner's charge goes with it.
		delete(sh.m, k)
		s.owners.release(old.owner)
	}
	if !s.owners.charge(o, s.share) {
		return false, ErrShareFull
	}
	exp := now + int64(ttl)
	sh.m[k] = entry{exp, o}
	sh.q = append(sh.q, queued{k, exp})
	return true, nil
}

// expireAll drops the expired heads of every shard.
func (s *MemoryStore) expireAll(now int64) {
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		sh.expire(now, &s.owners)
		sh.mu.Unlock()
	}
}

// Len is the number of entries held (expired ones not yet dropped
// included).
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shard {
		s.shard[i].mu.Lock()
		n += len(s.shard[i].m)
		s.shard[i].mu.Unlock()
	}
	return n
}

// expire drops expired entries from the head of the FIFO. Entries behind
// a longer-lived head wait for it (configs may use different lifetimes);
// they still count against the capacity until then.
func (sh *storeShard) expire(now int64, owners *ownerShards) {
	for sh.head < len(sh.q) && sh.q[sh.head].exp <= now {
		e := sh.q[sh.head]
		if cur, ok := sh.m[e.key]; ok && cur.exp == e.exp { // not re-recorded since
			delete(sh.m, e.key)
			owners.release(cur.owner)
		}
		sh.head++
	}
	// Compact once the dropped prefix is half the slice: the FIFO's memory
	// follows the live entries.
	if sh.head > 0 && sh.head*2 >= len(sh.q) {
		n := copy(sh.q, sh.q[sh.head:])
		clear(sh.q[n:])
		sh.q = sh.q[:n]
		if cap(sh.q) > 4096 && n < cap(sh.q)/4 {
			sh.q = append([]queued(nil), sh.q...)
		}
		sh.head = 0
	}
}

// sweep drops every expired entry and rebuilds the FIFO in expiry order.
// Entries of different lifetimes (configs may differ) leave the FIFO out of
// order, so expired entries can wait behind a longer-lived head; a sweep
// runs when the FIFO holds twice the shard's capacity (so it stays
// bounded, and costs amortised O(log n) per call) and, at most once a
// second, before refusing a full shard.
func (sh *storeShard) sweep(now int64, owners *ownerShards) {
	sh.swept = now
	q := make([]queued, 0, len(sh.m))
	for k, e := range sh.m {
		if e.exp <= now {
			delete(sh.m, k)
			owners.release(e.owner)
			continue
		}
		q = append(q, queued{k, e.exp})
	}
	slices.SortFunc(q, func(a, b queued) int { return cmp.Compare(a.exp, b.exp) })
	sh.q, sh.head = q, 0
}

// hash64 takes 64 bits of a ReplayKey ("dpop:" + 32 hex digits); any other
// string is hashed first.
func hash64(key string) uint64 {
	if len(key) == 37 && key[:5] == "dpop:" {
		var b [8]byte
		if _, err := hex.Decode(b[:], []byte(key[5:21])); err == nil {
			return binary.BigEndian.Uint64(b[:])
		}
	}
	sum := sha256.Sum256([]byte(key))
	return binary.BigEndian.Uint64(sum[:8])
}

var processStore struct {
	once sync.Once
	s    *MemoryStore
}

// ProcessStore is the one MemoryStore of the plugin process, shared by
// every configuration: Kong restarts plugin instances on every config
// change, and a jti accepted under the old config must stay spent.
func ProcessStore() *MemoryStore {
	processStore.once.Do(func() { processStore.s = NewMemoryStore(DefaultCapacity, testShare()) })
	return processStore.s
}

var _ ReplayStore = (*MemoryStore)(nil)
