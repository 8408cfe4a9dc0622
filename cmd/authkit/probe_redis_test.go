package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// readmeACL is the Redis ACL line of README's "Running several gateway
// nodes", with its placeholder password.
func readmeACL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^user authkit on .*$`).FindAllString(string(b), -1)
	if len(m) != 1 {
		t.Fatalf("README must hold exactly one `user authkit on …` ACL line, found %d", len(m))
	}
	return m[0]
}

func TestProbeRedis(t *testing.T) {
	acl := readmeACL(t)
	// The README's least-privilege user, with its placeholder password, and
	// a user that may not run scripts.
	srv := redistest.Start(t, redistest.Options{ACL: []string{
		"user default on nopass ~* &* +@all",
		acl,
		"user noscripts on >pw ~authkit:* resetchannels -@all +hello +auth +get +set",
		strings.Replace(strings.Replace(acl, "user authkit ", "user noinner ", 1), " +hgetall", "", 1),
	}})
	pw := regexp.MustCompile(`>(\S+)`).FindStringSubmatch(acl)[1]
	port := strconv.Itoa(srv.Port)
	cases := []struct {
		name   string
		env    string
		args   []string
		code   int
		wanted []string
	}{
		{"README ACL user", pw, []string{"--redis-host", "127.0.0.1", "--redis-port", port, "--redis-username", "authkit"}, 0, []string{"ok    redis", "under \"authkit:\""}},
		{"another key prefix", pw, []string{"--redis-host", "127.0.0.1", "--redis-port", port, "--redis-username", "authkit", "--redis-key-prefix", "other:"}, 1,
			[]string{"FAIL  redis", "REDIS_UNAVAILABLE", "lockout script", "ACL"}},
		{"no scripts", "pw", []string{"--redis-host", "127.0.0.1", "--redis-port", port, "--redis-username", "noscripts"}, 1,
			[]string{"FAIL  redis", "REDIS_UNAVAILABLE", "ACL forbids"}},
		{"script without a command it calls", pw, []string{"--redis-host", "127.0.0.1", "--redis-port", port, "--redis-username", "noinner"}, 1,
			[]string{"FAIL  redis", "lockout script", "ACL forbids"}},
		{"wrong password", "nope", []string{"--redis-host", "127.0.0.1", "--redis-port", port, "--redis-username", "authkit"}, 1,
			[]string{"FAIL  redis", "REDIS_UNAVAILABLE", "refused the credentials", "fix: Run `authkit probe"}},
		{"TLS to a plain port", pw, []string{"--redis-host", "127.0.0.1", "--redis-port", port, "--redis-ssl", "--redis-ssl-verify=false"}, 1,
			[]string{"FAIL  redis", "TLS handshake"}},
		{"bad record", "", []string{"--redis-host", "127.0.0.1", "--redis-cluster-nodes", "a:1"}, 1, []string{"FAIL  redis", "CONFIG_INVALID", "exactly one of host"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("AUTHKIT_REDIS_PASSWORD", c.env)
			code, out := probe(t, "", append([]string{"--timeout", "500ms"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, out)
			}
			for _, w := range c.wanted {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("paused", func(t *testing.T) {
		srv.Pause()
		defer srv.Resume()
		t.Setenv("AUTHKIT_REDIS_PASSWORD", pw)
		code, out := probe(t, "", "--timeout", "300ms", "--redis-host", "127.0.0.1", "--redis-port", port, "--redis-username", "authkit")
		if code != 1 || !strings.Contains(out, "did not answer within timeout_ms (300 ms)") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
}
