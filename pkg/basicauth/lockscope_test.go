package basicauth

import (
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

// TestPairKeyScope: a lockout pair is scoped by the whole credential store
// and the lockout settings, never by the user name alone (issue 23).
func TestPairKeyScope(t *testing.T) {
	h1, _ := passwd.HashBcrypt([]byte("pw"), 4)
	h2, _ := passwd.HashBcrypt([]byte("pw"), 4) // same password, another salt
	hb, _ := passwd.HashBcrypt([]byte("bob"), 4)
	store := func(creds ...Credential) *Store {
		s, err := CompileCredentials("credentials", creds)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	alice1, alice2 := Credential{"alice", h1, "c"}, Credential{"alice", h2, "c"}
	bob := Credential{"bob", hb, "c"}
	l := NewLockout(3, time.Minute)
	base := l.pairKey(store(alice1, bob), "alice", "ip")
	if got := l.pairKey(store(bob, alice1), "alice", "ip"); got != base {
		t.Fatal("the same store in another order must share its counters")
	}
	apart := map[string][32]byte{
		"another hash of alice": l.pairKey(store(alice2, bob), "alice", "ip"),
		"another user list":     l.pairKey(store(alice1), "alice", "ip"),
		"another max_failures":  NewLockout(4, time.Minute).pairKey(store(alice1, bob), "alice", "ip"),
		"another window":        NewLockout(3, time.Hour).pairKey(store(alice1, bob), "alice", "ip"),
		"another client IP":     l.pairKey(store(alice1, bob), "alice", "ip2"),
	}
	for name, k := range apart {
		if k == base {
			t.Errorf("%s shares alice's counter", name)
		}
	}
	// Unknown names are scoped like known ones: by the store.
	if l.pairKey(store(alice1), "mallory", "ip") == l.pairKey(store(alice2), "mallory", "ip") {
		t.Error("an unknown user shares its counter across different stores")
	}
}

// BenchmarkPairKey is the lockout key's cost on every request with the
// lockout on: one secret.Key (SHA-256 of five short fields), as the
// (user, IP) key before it; the store digest is computed once per store.
func BenchmarkPairKey(b *testing.B) {
	h, _ := passwd.HashBcrypt([]byte("pw"), 4)
	s, err := CompileCredentials("credentials", []Credential{{"alice", h, "c"}})
	if err != nil {
		b.Fatal(err)
	}
	l := NewLockout(5, 15*time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.pairKey(s, "alice", "198.51.100.7")
	}
}
