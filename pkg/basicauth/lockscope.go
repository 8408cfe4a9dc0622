package basicauth

import (
	"sort"
	"strconv"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// The lockout's counters are scoped to a credential store (issue 23,
// defect 1). With policy redis every route on the same Redis and key_prefix
// writes into one key space, and a key of (user, client IP) alone let a
// success on route B clear the failures route A was counting for its own,
// different alice. The rule: a failure or a success against one credential
// store never changes another store's counters.
//
// A pair's key is SHA-256 over (label, store digest, max_failures,
// lockout_seconds, user, client IP), each length-prefixed:
//
//   - The store digest covers every user name and stored hash of the
//     store (static credentials and credentials_file together), so two
//     routes share a window for a name only when they serve exactly the same
//     credentials. Sharing is decided by the store, never by the user: if
//     it depended on whether the name is known (say, user + stored hash for
//     a known user), locking a name on route A and probing route B would
//     tell an attacker whether the name is a user of both routes. Here a
//     name is scoped the same way known or unknown.
//   - max_failures and lockout_seconds are in the key because a shared
//     counter would let one route's settings weaken another's: a short
//     lockout_seconds on route B ends windows (and locks) route A counts in
//     with a long one. Each route's guarantee is its own.
//   - Nothing secret: the store digest is a SHA-256 over every stored
//     hash at once, so a key name offers no offline test of a password
//     guess (that would need every stored hash of the store, each with its
//     random salt); the user name and client IP are hashed too (the
//     redisstore invariant: keys hold hashes only).
//
// Changing any credential of a store (a credentials_file rotation) changes
// its digest, so the store's counters start over: an operator's act, which
// no client can cause.
const lockScopeLabel = "authkit-basic lockout v2"

// digestOf hashes the store's user names and stored hashes in name order,
// the same on every node that compiles the same credentials.
func digestOf(users map[string]*user) string {
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	sort.Strings(names)
	fields := make([]string, 0, 2*len(names))
	for _, n := range names {
		fields = append(fields, n, users[n].hash.String())
	}
	k := secret.Key(fields...)
	return string(k[:])
}

// settingsOf is the lockout settings as a key field, computed once.
func settingsOf(max int, window time.Duration) string {
	return strconv.Itoa(max) + "/" + strconv.FormatInt(window.Milliseconds(), 10)
}

// pairKey is the lockout key of (user, client IP) in the store's scope,
// under this config's max_failures and lockout_seconds.
func (l *Lockout) pairKey(s *Store, user, ip string) [32]byte {
	return secret.Key(lockScopeLabel, s.digest, l.settings, user, ip)
}
