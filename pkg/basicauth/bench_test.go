package basicauth

import (
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/passwd"
)

func benchStore(b *testing.B) *Store {
	h, err := passwd.HashBcrypt([]byte("pw"), 10)
	if err != nil {
		b.Fatal(err)
	}
	s, err := CompileCredentials("credentials", []Credential{{"alice", h, "alice"}})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkVerifyWarm is a cached verification: one SHA-256 and a map hit.
func BenchmarkVerifyWarm(b *testing.B) {
	s := benchStore(b)
	c := newVerifiedCache(time.Hour)
	c.check(s, "alice", "pw")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := c.check(s, "alice", "pw"); !ok {
			b.Fatal("refused")
		}
	}
}

// BenchmarkVerifyBcrypt10Cold is the same check with the cache off: a full
// bcrypt cost-10 verification every time.
func BenchmarkVerifyBcrypt10Cold(b *testing.B) {
	s := benchStore(b)
	c := newVerifiedCache(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := c.check(s, "alice", "pw"); !ok {
			b.Fatal("refused")
		}
	}
}

// BenchmarkVerifyUnknownUser must cost what a wrong password costs.
func BenchmarkVerifyUnknownUser(b *testing.B) {
	s := benchStore(b)
	c := newVerifiedCache(time.Hour)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.check(s, "mallory", "pw")
	}
}
