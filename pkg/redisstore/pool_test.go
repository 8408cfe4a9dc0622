package redisstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// clients counts srv's client connections of user.
func clients(t *testing.T, srv *redistest.Server, user string) int {
	t.Helper()
	out, err := srv.Cmd("CLIENT", "LIST")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(out, " user="+user+" ")
}

// Issue 23, defect 3: rotating the password (and timeout_ms) 80 times, one
// config at a time, never fails (the old bound refused the 65th setting)
// and leaves one pool and its connections: each old config's store is
// closed once the next one works.
func TestPasswordRotationReleasesPools(t *testing.T) {
	redistest.Require(t)
	srv := redistest.Start(t, redistest.Options{})
	before := Pools()
	var prev *Store
	for i := range 80 {
		pw := fmt.Sprintf("pw-%d", i)
		if _, err := srv.Cmd("ACL", "SETUSER", "rot", "on", "resetpass", ">"+pw, "~*", "+@all"); err != nil {
			t.Fatal(err)
		}
		s := store(t, Config{Host: "127.0.0.1", Port: ptr(srv.Port), Username: "rot", Password: pw,
			TimeoutMS: ptr(4000 + i%7), KeyPrefix: ptr("rot:")}, false)
		h := sha256.Sum256([]byte(pw))
		if _, _, err := s.Claim(context.Background(), nil, "rot", h[:], time.Minute); err != nil {
			t.Fatalf("setting %d: %v", i, err)
		}
		if err := prev.Close(); err != nil {
			t.Fatal(err)
		}
		prev = s
	}
	if n := Pools() - before; n != 1 {
		t.Fatalf("%d pools open after 80 rotations, want 1", n)
	}
	if n := clients(t, srv, "rot"); n > 2 {
		t.Fatalf("%d connections of user rot after 80 rotations, want at most 2", n)
	}
	prev.Close()
	prev.Close() // a second Close does nothing
	if n := Pools() - before; n != 0 {
		t.Fatalf("%d pools open after the last store closed", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for clients(t, srv, "rot") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections of user rot after the last store closed", clients(t, srv, "rot"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Configs that differ only in timeout_ms share a pool (each operation's
// deadline is its own), and the pool lives while any of them does.
func TestTimeoutIsNotAPoolSetting(t *testing.T) {
	before := Pools()
	a := store(t, Config{Host: "127.0.0.1", Port: ptr(1), TimeoutMS: ptr(100)}, true)
	b := store(t, Config{Host: "127.0.0.1", Port: ptr(1), TimeoutMS: ptr(900)}, true)
	if a.Client() != b.Client() {
		t.Fatal("timeout_ms opened a second pool")
	}
	if a.Timeout() == b.Timeout() {
		t.Fatal("the stores lost their own timeouts")
	}
	a.Close()
	if Pools()-before != 1 {
		t.Fatal("closing one store closed the shared pool")
	}
	b.Close()
	if Pools() != before {
		t.Fatal("the last store did not close the pool")
	}
}
