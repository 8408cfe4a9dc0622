package basicauth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/passwd"
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
		{"nothing", Config{}, "credentials: at least one"},
		{"log level", Config{Credentials: []Credential{{"a", good, "c"}}, LogLevel: "loud"}, "log_level"},
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

func TestLockout(t *testing.T) {
	l := NewLockout(2, time.Minute)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	l.m.SetClock(l.now)
	l.Fail("u", "1.1.1.1")
	if _, locked := l.Locked("u", "1.1.1.1"); locked {
		t.Fatal("locked after one failure")
	}
	l.Fail("u", "1.1.1.1")
	if left, locked := l.Locked("u", "1.1.1.1"); !locked || left != time.Minute {
		t.Fatalf("locked=%v left=%v", locked, left)
	}
	if _, locked := l.Locked("u", "2.2.2.2"); locked {
		t.Fatal("another client IP must not be locked")
	}
	now = now.Add(time.Minute)
	if _, locked := l.Locked("u", "1.1.1.1"); locked {
		t.Fatal("still locked after the window")
	}
	if NewLockout(0, time.Minute) != nil {
		t.Fatal("max 0 must disable")
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
		if err := c.UnmarshalJSON(data); err != nil {
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
