package basicauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := passwd.HashBcrypt([]byte(pw), 4)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCompileErrorsNameTheField(t *testing.T) {
	good := mustHash(t, "pw")
	neg := -1
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"plaintext", Config{Credentials: []Credential{{"a", good, "c"}, {"b", "hunter2", "c"}}}, "credentials[1].password_hash"},
		{"empty user", Config{Credentials: []Credential{{"", good, "c"}}}, "credentials[0].username"},
		{"colon in user", Config{Credentials: []Credential{{"a:b", good, "c"}}}, "credentials[0].username"},
		{"duplicate", Config{Credentials: []Credential{{"a", good, "c"}, {"a", good, "c"}}}, "credentials[1].username"},
		{"no consumer", Config{Credentials: []Credential{{"a", good, ""}}}, "credentials[0].consumer"},
		{"nothing", Config{}, "at least one of these fields must be non-empty: 'credentials', 'credentials_file'"},
		{"log level", Config{Credentials: []Credential{{"a", good, "c"}}, LogLevel: ptr("loud")}, "log_level"},
		{"ttl", Config{Credentials: []Credential{{"a", good, "c"}}, CacheTTLSeconds: &neg}, "cache_ttl_seconds"},
		{"lockout half", Config{Credentials: []Credential{{"a", good, "c"}}, MaxFailures: 3}, "max_failures and lockout_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Compile()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
	_, err := (&Config{Credentials: []Credential{{"b", "hunter2", "c"}}}).Compile()
	if !errors.Is(err, passwd.ErrPlaintext) {
		t.Fatalf("plaintext must wrap passwd.ErrPlaintext: %v", err)
	}
}

func TestVerifyCacheAndFake(t *testing.T) {
	s, err := CompileCredentials("credentials", []Credential{{"alice", mustHash(t, "right"), "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newVerifiedCache(time.Minute)
	if _, ok := c.check(s, "alice", "wrong"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, ok := c.check(s, "bob", "right"); ok {
		t.Fatal("unknown user accepted")
	}
	if c.m.Len() != 0 {
		t.Fatal("failures must not be cached")
	}
	if u, ok := c.check(s, "alice", "right"); !ok || u.consumer != "alice" {
		t.Fatal("right password refused")
	}
	if c.m.Len() != 1 {
		t.Fatal("success must be cached")
	}
	// The fake hash has the real one's scheme and cost: same work.
	if s.fake.Scheme() != "bcrypt" {
		t.Fatalf("fake scheme %s", s.fake.Scheme())
	}
	if _, ok := c.check(s, "alice", "right"); !ok {
		t.Fatal("cached success refused")
	}
	// A changed hash invalidates the cached entry.
	s2, _ := CompileCredentials("credentials", []Credential{{"alice", mustHash(t, "new"), "alice"}})
	if _, ok := c.check(s2, "alice", "right"); ok {
		t.Fatal("old password accepted from cache after the hash changed")
	}
}

func TestCacheKeyIsLengthPrefixed(t *testing.T) {
	if cacheKey("ab", "c", "h") == cacheKey("a", "bc", "h") {
		t.Fatal("cache keys collide on concatenation")
	}
}

func wrong() bool { return false }

// pairOf is a lockout pair key for the Lockout's own tests (the plugin's
// keys are scoped to a store: lockscope.go).
func pairOf(user, ip string) [32]byte { return secret.Key(user, ip) }

func TestLockout(t *testing.T) {
	l := NewLockout(2, time.Minute)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	l.Attempt(pairOf("u", "1.1.1.1"), [32]byte{1}, wrong)
	if _, locked := l.Locked(pairOf("u", "1.1.1.1")); locked {
		t.Fatal("locked after one failure")
	}
	now = now.Add(10 * time.Second)
	l.Attempt(pairOf("u", "1.1.1.1"), [32]byte{2}, wrong)
	if left, locked := l.Locked(pairOf("u", "1.1.1.1")); !locked || left != time.Minute {
		t.Fatalf("locked=%v left=%v (a lock lasts a whole window)", locked, left)
	}
	ran := false
	if _, _, locked := l.Attempt(pairOf("u", "1.1.1.1"), [32]byte{3}, func() bool { ran = true; return true }); !locked || ran {
		t.Fatal("a locked pair was verified")
	}
	if _, locked := l.Locked(pairOf("u", "2.2.2.2")); locked {
		t.Fatal("another client IP must not be locked")
	}
	now = now.Add(time.Minute)
	if _, locked := l.Locked(pairOf("u", "1.1.1.1")); locked {
		t.Fatal("still locked after the window")
	}
	l.Attempt(pairOf("u", "1.1.1.1"), [32]byte{4}, wrong)
	l.Attempt(pairOf("u", "1.1.1.1"), [32]byte{5}, func() bool { return true })
	if l.Len() != 0 {
		t.Fatal("a success must clear the pair")
	}
	if NewLockout(0, time.Minute) != nil {
		t.Fatal("max 0 must disable")
	}
}

// TestLockoutReservesBeforeHashing (issue 11, item 2): in-flight attempts
// count against Max, so N concurrent wrong guesses verify at most Max
// passwords; concurrent identical attempts share one slot and one verdict.
func TestLockoutReservesBeforeHashing(t *testing.T) {
	l := NewLockout(3, time.Minute)
	release := make(chan struct{})
	var verified atomic.Int64
	slow := func() bool { verified.Add(1); <-release; return false }
	var wg sync.WaitGroup
	var refused atomic.Int64
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, locked := l.Attempt(pairOf("alice", "ip"), [32]byte{byte(i)}, slow); locked {
				refused.Add(1)
			}
		}()
	}
	for refused.Load() < 37 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if verified.Load() != 3 || refused.Load() != 37 {
		t.Fatalf("40 concurrent guesses with max 3: %d verified, %d refused", verified.Load(), refused.Load())
	}

	// A burst of the same (right) password: one slot, one verification.
	l = NewLockout(3, time.Minute)
	verified.Store(0)
	gate := make(chan struct{})
	right := func() bool { verified.Add(1); <-gate; return true }
	oks := atomic.Int64{}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _, locked := l.Attempt(pairOf("alice", "ip"), [32]byte{9}, right); ok && !locked {
				oks.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	if oks.Load() != 20 || l.Len() != 0 {
		t.Fatalf("burst of one right password: %d accepted, %d verified, %d pairs", oks.Load(), verified.Load(), l.Len())
	}
}

// TestLockoutTableFlood: the table is bounded, and a flood of other user
// names (one failure each) cannot evict a locked pair, nor a pair that is
// on its way to being locked.
func TestLockoutTableFlood(t *testing.T) {
	l := newLockout(3, time.Minute, 100)
	for i := 0; i < 3; i++ {
		l.Attempt(pairOf("victim", "attacker"), [32]byte{byte(i)}, wrong)
	}
	l.Attempt(pairOf("victim", "other-ip"), [32]byte{1}, wrong)
	l.Attempt(pairOf("victim", "other-ip"), [32]byte{2}, wrong)
	for i := 0; i < 10_000; i++ {
		l.Attempt(pairOf(fmt.Sprintf("spray-%d", i), "attacker"), [32]byte{1}, wrong)
		if l.Len() > 100 {
			t.Fatalf("table grew to %d pairs, capacity 100", l.Len())
		}
	}
	if _, locked := l.Locked(pairOf("victim", "attacker")); !locked {
		t.Fatal("a flood of other user names evicted a locked pair")
	}
	if _, _, locked := l.Attempt(pairOf("victim", "other-ip"), [32]byte{3}, wrong); locked {
		t.Fatal("unexpected lock")
	}
	if _, locked := l.Locked(pairOf("victim", "other-ip")); !locked {
		t.Fatal("a flood evicted a pair's earlier failures")
	}
}

func TestCredentialsFileReload(t *testing.T) {
	old := credfile.CheckInterval
	credfile.CheckInterval = 0
	defer func() { credfile.CheckInterval = old }()
	path := filepath.Join(t.TempDir(), "creds.yaml")
	write := func(s string) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("- username: bob\n  password_hash: '" + mustHash(t, "pw1") + "'\n  consumer: bob\n")
	a, err := (&Config{CredentialsFile: path}).Compile()
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.file.Get()
	if err != nil || st.users["bob"] == nil {
		t.Fatalf("load: %v", err)
	}
	write(`{"credentials":[{"username":"carol","password_hash":"` + mustHash(t, "pw2") + `","consumer":"carol"}]}`)
	st, err = a.file.Get()
	if err != nil || st.users["carol"] == nil || st.users["bob"] != nil {
		t.Fatalf("reload: %v %v", err, st)
	}
	write(`[{"username":"dave","password_hash":"plain","consumer":"d"}]`)
	if _, err = a.file.Get(); err == nil || !strings.Contains(err.Error(), "credentials_file[0].password_hash") {
		t.Fatalf("broken file must fail closed naming the entry: %v", err)
	}
}

// FuzzLoadCredentials drives the credentials-file loader: any bytes must
// give a store or an error, never a panic, and an accepted store never holds
// a plaintext password.
func FuzzLoadCredentials(f *testing.F) {
	f.Add([]byte(`[{"username":"a","password_hash":"$2a$04$abcdefghijklmnopqrstuu5XJ0SvHg7pMKXN9oM8pZ3kqVdOa0vC6","consumer":"c"}]`))
	f.Add([]byte("credentials:\n- username: a\n  password_hash: x\n"))
	f.Add([]byte(`{"credentials": null}`))
	f.Add([]byte(`- 1`))
	f.Fuzz(func(t *testing.T, data []byte) {
		creds, err := credfile.Decode[Credential](data)
		if err != nil {
			return
		}
		s, err := CompileCredentials("credentials_file", creds)
		if err != nil {
			return
		}
		for _, u := range s.users {
			if u.hash == nil || !strings.HasPrefix(u.hash.String(), "$") {
				t.Fatalf("accepted a non-hash for %q", u.name)
			}
		}
	})
}

// FuzzConfigJSON feeds arbitrary JSON, as Kong would send in StartInstance,
// through decoding and compilation: an error is fine, a panic is not, and a
// config that compiles never holds a plaintext password.
func FuzzConfigJSON(f *testing.F) {
	f.Add([]byte(`{"credentials":[{"username":"a","password_hash":"$2a$04$abcdefghijklmnopqrstuu5XJ0SvHg7pMKXN9oM8pZ3kqVdOa0vC6","consumer":"c"}],"realm":null,"__seq__":3}`))
	f.Add([]byte(`{"cache_ttl_seconds":-1,"max_failures":1e9}`))
	f.Add([]byte(`{"credentials":null,"credentials_file":"/nonexistent"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Config
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		a, err := c.Compile()
		if err != nil {
			return
		}
		for _, u := range a.static.users {
			if !strings.HasPrefix(u.hash.String(), "$") {
				t.Fatal("plaintext accepted")
			}
		}
	})
}

// TestFakeImitatesTheMostExpensiveHash (issue 11, item 5): with users of
// different costs, unknown users verify a fake of the most expensive one,
// every time (main took whichever user map iteration returned first), and
// the config compiles with a warning.
func TestFakeImitatesTheMostExpensiveHash(t *testing.T) {
	cheap := mustHash(t, "pw") // bcrypt cost 4
	dear, err := passwd.HashBcrypt([]byte("pw"), 6)
	if err != nil {
		t.Fatal(err)
	}
	argon, err := passwd.HashArgon2id([]byte("pw"), passwd.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	creds := []Credential{{"a", cheap, "c"}, {"b", dear, "c"}, {"c", argon, "c"}, {"d", cheap, "c"}}
	for i := 0; i < 50; i++ {
		a, err := (&Config{Credentials: creds}).Compile()
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := a.static.fake.BcryptCost(); c != 6 {
			t.Fatalf("compile %d: fake is %s, want bcrypt cost 6", i, a.static.fake.Params())
		}
		if w := a.Warnings(); len(w) != 1 || !strings.Contains(w[0], "bcrypt cost 6 (") || !strings.Contains(w[0], "argon2id m=64,t=1,p=1") {
			t.Fatalf("warnings %q", w)
		}
	}
	a, _ := (&Config{Credentials: creds[:1]}).Compile()
	if len(a.Warnings()) != 0 {
		t.Fatal("one parameter set: no warning")
	}
}

func ptr[T any](v T) *T { return &v }

func TestStringRedactsTheRedisPassword(t *testing.T) {
	c := Config{Policy: ptr("redis")}
	c.Redis.Password = "hunter2-redis"
	if s := c.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "[redacted]") {
		t.Fatalf("String() = %s", s)
	}
}
