package basicauth

import (
	"fmt"
	"sync/atomic"

	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

// Credential is one user as written in kong.yaml or a credentials file.
type Credential struct {
	// Username is the RFC 7617 user-id (no colon, no control characters).
	Username string `json:"username" required:"true" match_none:"[:%c]" match_err:"must not contain a colon or control characters (RFC 7617 §2)"`
	// PasswordHash is a bcrypt ($2a$/$2b$/$2y$), argon2id ($argon2id$…) or
	// PBKDF2-SHA256 ($pbkdf2-sha256$…) hash; plaintext is refused. Make one
	// with `authkit hash password`.
	PasswordHash string `json:"password_hash" required:"true"`
	// Consumer is the Kong consumer (username or id) this user maps to.
	Consumer string `json:"consumer" required:"true"`
}

type user struct {
	name     string
	hash     *passwd.Hash
	consumer string
}

// Store is a compiled credential list.
type Store struct {
	users map[string]*user
	// fake is verified for unknown users so they cost the same as a wrong
	// password (caddy's basicauth does the same): the most expensive of
	// the users' parameter sets, chosen deterministically.
	fake *passwd.Hash
	// digest names the store in the lockout's keys (lockscope.go).
	digest string
	// warning is set when the users' hashes differ in scheme or cost.
	warning string
	warned  atomic.Bool // the warning of a credentials_file store was logged
}

// CompileCredentials checks every entry (naming it by list and index in
// errors) and builds the lookup map. field is the config path of the list.
func CompileCredentials(field string, creds []Credential) (*Store, error) {
	s := &Store{users: make(map[string]*user, len(creds))}
	if err := s.add(field, creds); err != nil {
		return nil, err
	}
	s.finish()
	return s, nil
}

func (s *Store) add(field string, creds []Credential) error {
	for i, c := range creds {
		at := fmt.Sprintf("%s[%d]", field, i)
		if c.Username == "" {
			return fmt.Errorf("%s.username: must not be empty", at)
		}
		for j := 0; j < len(c.Username); j++ {
			if b := c.Username[j]; b == ':' || b < 0x20 || b == 0x7f {
				return fmt.Errorf("%s.username: must not contain a colon or control characters (RFC 7617 §2)", at)
			}
		}
		if _, dup := s.users[c.Username]; dup {
			return fmt.Errorf("%s.username: %q is defined twice", at, c.Username)
		}
		h, err := passwd.Parse(c.PasswordHash)
		if err != nil {
			return fmt.Errorf("%s.password_hash: %w", at, err)
		}
		if c.Consumer == "" {
			return fmt.Errorf("%s.consumer: must name a Kong consumer (username or id)", at)
		}
		s.users[c.Username] = &user{name: c.Username, hash: h, consumer: c.Consumer}
	}
	return nil
}

// finish picks the fake hash: the most expensive parameter set among the
// users (passwd.FakeFor), never whichever one map iteration returns first,
// so an unknown user costs at least what any known user's wrong password
// costs. Users whose hashes are cheaper still answer faster than an unknown
// user, which tells their names apart by timing: that is the warning.
func (s *Store) finish() {
	hashes := make([]*passwd.Hash, 0, len(s.users))
	for _, u := range s.users {
		hashes = append(hashes, u.hash)
	}
	s.fake = passwd.FakeFor(hashes)
	s.digest = digestOf(s.users)
	if desc, mixed := passwd.MixedCosts(hashes); mixed {
		s.warning = fmt.Sprintf("password hashes use different schemes or costs: %s. Unknown users are verified against a fake %s hash, so users with a cheaper hash answer a wrong password measurably faster than an unknown user does, which tells that their names exist: rehash them all with one scheme and cost (`authkit hash password`)",
			desc, s.fake.Params())
	}
}

// warnings returns the store's warning, naming the list it came from.
func (s *Store) warnings(field string) []string {
	if s.warning == "" {
		return nil
	}
	return []string{field + ": " + s.warning}
}

// Merge returns a store holding both lists; a user defined twice is an error.
func Merge(static *Store, field string, creds []Credential) (*Store, error) {
	s := &Store{users: make(map[string]*user, len(static.users)+len(creds))}
	for k, v := range static.users {
		s.users[k] = v
	}
	if err := s.add(field, creds); err != nil {
		return nil, err
	}
	s.finish()
	return s, nil
}

// lookup returns the user (nil if unknown) and the hash to verify: the
// user's, or the fake one, so both paths do the same work.
func (s *Store) lookup(name string) (*user, *passwd.Hash) {
	if u, ok := s.users[name]; ok {
		return u, u.hash
	}
	return nil, s.fake
}
