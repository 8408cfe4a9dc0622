package passwd

import "sync"

// Fake hashes exist so that a request for an unknown user costs the same as
// one for a known user with a wrong password; otherwise response time tells
// an attacker which user names exist. Caddy's basicauth handler does the
// same. The usage pattern is:
//
//	h, ok := creds[user]
//	if !ok {
//		h = passwd.Fake(anyConfiguredHash) // or passwd.DefaultFake()
//	}
//	if !h.Verify(password) || !ok { deny }
//
// A fake hash has the scheme and every cost parameter (and salt/key length)
// of the hash it imitates, but a random salt and a random key, so Verify runs
// the full key derivation and then answers false (it is also flagged, so it
// answers false even in the 2^-128 event of a match).

// fakes caches one fake per parameter set. Parameter sets come from the
// configuration, so the cache is bounded by the number of distinct
// parameter sets configured.
var fakes sync.Map // fakeKey string -> *Hash

// Fake returns a hash that no password matches, with the same scheme and
// parameters as like. Repeated calls with the same parameter set return the
// same *Hash. It is safe for concurrent use. A nil or zero like yields
// [DefaultFake].
func Fake(like *Hash) *Hash {
	if like == nil || like.v == nil {
		return DefaultFake()
	}
	k := like.v.fakeKey()
	if h, ok := fakes.Load(k); ok {
		return h.(*Hash)
	}
	h, _ := fakes.LoadOrStore(k, &Hash{v: like.v.fake(), fake: true})
	return h.(*Hash)
}

// defaultFakeCost is bcrypt cost 10, the cost of typical htpasswd -B files
// and the x/crypto default.
const defaultFakeCost = 10

// DefaultFake returns the fake hash used when there are no credentials to
// imitate: bcrypt at cost 10. It is the same value as Fake of any bcrypt
// cost-10 hash.
func DefaultFake() *Hash {
	k := (&bcryptHash{cost: defaultFakeCost}).fakeKey()
	if h, ok := fakes.Load(k); ok {
		return h.(*Hash)
	}
	h, _ := fakes.LoadOrStore(k, &Hash{v: newFakeBcrypt(defaultFakeCost), fake: true})
	return h.(*Hash)
}

// IsFake reports whether h was returned by Fake or DefaultFake.
func (h *Hash) IsFake() bool { return h != nil && h.fake }
