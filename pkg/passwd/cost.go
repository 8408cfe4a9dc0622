package passwd

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The cost model compares the verification work of different schemes and
// parameters without running them, so that the choice of the fake hash is
// deterministic (the same configuration always picks the same fake, on any
// machine, whatever the load). The constants are the time of one unit of
// work measured with this package's own code (BenchmarkVerify*, 2-core
// AMD EPYC, Go 1.26): bcrypt cost 10 = 70.8 ms, argon2id m=19456 t=2 =
// 47.5 ms, PBKDF2-SHA256 600,000 iterations = 141 ms. Only the order
// matters; the absolute figures are for the warning text.
const (
	bcryptUnitNs = 69_100 // per 2^cost
	argon2UnitNs = 1_222  // per KiB of memory per pass (lanes share the work)
	pbkdf2UnitNs = 236    // per iteration per 32-byte output block
)

func (b *bcryptHash) work() float64 { return bcryptUnitNs * float64(uint64(1)<<b.cost) }

func (a *argon2Hash) work() float64 {
	return argon2UnitNs * float64(a.params.Memory) * float64(a.params.Time)
}

func (h *pbkdf2Hash) work() float64 {
	blocks := (len(h.key) + 31) / 32
	return pbkdf2UnitNs * float64(h.iterations) * float64(blocks)
}

// EstimatedCost is the modelled time of one verification of h (0 for a nil
// or zero Hash). It depends only on the scheme and parameters.
func (h *Hash) EstimatedCost() time.Duration {
	if h == nil || h.v == nil {
		return 0
	}
	return time.Duration(h.v.work())
}

// Params describes h's scheme and cost parameters (no salt, no key), e.g.
// "bcrypt cost 10" or "argon2id m=19456,t=2,p=1".
func (h *Hash) Params() string {
	if h == nil || h.v == nil {
		return ""
	}
	switch v := h.v.(type) {
	case *bcryptHash:
		return fmt.Sprintf("bcrypt cost %d", v.cost)
	case *argon2Hash:
		return fmt.Sprintf("argon2id m=%d,t=%d,p=%d", v.params.Memory, v.params.Time, v.params.Threads)
	case *pbkdf2Hash:
		return fmt.Sprintf("pbkdf2-sha256 i=%d", v.iterations)
	}
	return h.v.scheme()
}

// FakeFor returns the fake hash for a set of users' hashes: Fake of the
// most expensive one by EstimatedCost, so that an unknown user never
// answers faster than any known user with a wrong password (ties are
// broken by the parameter set's name, so the choice never depends on the
// order of hashes: a map's iteration order must not pick the fake). With
// no hashes it is DefaultFake.
func FakeFor(hashes []*Hash) *Hash {
	var best *Hash
	for _, h := range hashes {
		if h == nil || h.v == nil {
			continue
		}
		if best == nil || h.v.work() > best.v.work() ||
			h.v.work() == best.v.work() && h.v.fakeKey() > best.v.fakeKey() {
			best = h
		}
	}
	if best == nil {
		return DefaultFake()
	}
	return Fake(best)
}

// MixedCosts reports, when hashes use more than one parameter set, a
// description of them (each with how many hashes use it, most expensive
// first) and true. Users whose hash is cheaper than the fake hash answer a
// wrong password faster than an unknown user does, so their names can be
// told apart by timing.
func MixedCosts(hashes []*Hash) (string, bool) {
	type set struct {
		desc string
		key  string
		work float64
		n    int
	}
	sets := map[string]*set{}
	for _, h := range hashes {
		if h == nil || h.v == nil {
			continue
		}
		k := h.v.fakeKey()
		if sets[k] == nil {
			sets[k] = &set{desc: h.Params(), key: k, work: h.v.work()}
		}
		sets[k].n++
	}
	if len(sets) < 2 {
		return "", false
	}
	list := make([]*set, 0, len(sets))
	for _, s := range sets {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].work != list[j].work {
			return list[i].work > list[j].work
		}
		return list[i].key > list[j].key
	})
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = fmt.Sprintf("%s (≈%s, %d %s)", s.desc, time.Duration(s.work).Round(time.Millisecond/10), s.n, plural(s.n, "hash", "hashes"))
	}
	return strings.Join(parts, ", "), true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
