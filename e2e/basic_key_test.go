package e2e

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func challenge(c gateway.Challenge, code string) string {
	return c(errcode.New(errcode.Code(code), ""))
}

// identity asserts the identity headers the upstream got: present with
// these values, or absent ("" = must be absent, not empty).
func identity(t testing.TB, e *echoed, want map[string]string) {
	t.Helper()
	for name, v := range want {
		switch {
		case v == "" && e.has(name):
			t.Errorf("upstream has %s = %q, want it absent", name, e.get(name))
		case v != "" && e.get(name) != v:
			t.Errorf("upstream %s = %q, want %q", name, e.get(name), v)
		}
	}
}

// authenticated asserts what real kong.client.authenticate left: Kong's
// own log serializer names the consumer (file-log "consumer").
func (f *fixture) authenticated(t testing.TB, r *response, consumerID string) {
	t.Helper()
	entry := fileLogEntry(t, f.fileLog, r.ReqID)
	c, _ := entry["consumer"].(map[string]any)
	if consumerID == "" {
		if c != nil {
			t.Fatalf("file-log consumer %v, want none", c)
		}
		return
	}
	if c["id"] != consumerID {
		t.Fatalf("file-log consumer %v, want id %s", c, consumerID)
	}
}

func testBasic(t *testing.T, f *fixture) {
	const plugin = "authkit-basic"
	ch := gateway.BasicChallenge("service")
	aliceID, bobID := f.consumerID(t, "alice"), f.consumerID(t, "bob")

	t.Run("refusals", func(t *testing.T) {
		f.refused(t, get(t, f.kong, "/t/basic"), plugin, 401, "BASIC_MISSING", challenge(ch, "BASIC_MISSING"))
		f.refused(t, get(t, f.kong, "/t/basic", "Authorization", "Basic !!not-base64"), plugin, 400, "BASIC_MALFORMED", "")
		ev := f.refused(t, get(t, f.kong, "/t/basic", "Authorization", basicAuth("bob", "Not-Bobs-Pw-7731")), plugin, 401, "BASIC_INVALID_CREDENTIALS", challenge(ch, "BASIC_INVALID_CREDENTIALS"))
		if strings.Contains(ev.Raw, "Not-Bobs-Pw-7731") {
			t.Fatalf("the password leaked into error.log: %s", ev.Raw)
		}
		f.refused(t, get(t, f.kong, "/t/basic", "Authorization", basicAuth("nobody", "x")), plugin, 401, "BASIC_INVALID_CREDENTIALS", challenge(ch, "BASIC_INVALID_CREDENTIALS"))
		f.refused(t, get(t, f.kong, "/t/basic", "Authorization", basicAuth("ghost-user", alicePassword)), plugin, 500, "CONSUMER_NOT_FOUND", "")
		ev = f.refused(t, get(t, f.kong, "/t/basic-bad", "Authorization", basicAuth("alice", alicePassword)), plugin, 500, "CONFIG_INVALID", "")
		if !strings.Contains(ev.Record.Detail, "password_hash") {
			t.Fatalf("CONFIG_INVALID does not name the field: %s", ev.Raw)
		}
	})
	t.Run("lockout", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			f.refused(t, get(t, f.kong, "/t/basic", "Authorization", basicAuth("locky", "wrong")), plugin, 401, "BASIC_INVALID_CREDENTIALS", challenge(ch, "BASIC_INVALID_CREDENTIALS"))
		}
		// Locked: even the right password is refused, with Retry-After.
		r := get(t, f.kong, "/t/basic", "Authorization", basicAuth("locky", lockyPassword))
		f.refused(t, r, plugin, 429, "BASIC_LOCKED_OUT", "")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
	t.Run("success sets Kong's identity headers", func(t *testing.T) {
		r := get(t, f.kong, "/t/basic", "Authorization", basicAuth("alice", alicePassword))
		identity(t, r.echo(t), map[string]string{
			"X-Consumer-ID": aliceID, "X-Consumer-Username": "alice", "X-Consumer-Custom-ID": "demo-alice",
			"X-Credential-Identifier": "alice", "X-Anonymous-Consumer": "", "Authorization": basicAuth("alice", alicePassword),
		})
		f.authenticated(t, r, aliceID)
		noRecord(t, f.kong, f.fileLog, r.ReqID)
	})
	t.Run("identity headers cannot be spoofed", func(t *testing.T) {
		// bob has no custom_id: the header must be absent, not empty.
		r := get(t, f.kong, "/t/basic", "Authorization", basicAuth("bob", bobPassword),
			"X-Consumer-Custom-ID", "spoofed", "X-Anonymous-Consumer", "true", "X-Credential-Identifier", "spoofed", "X-Consumer-Username", "root")
		identity(t, r.echo(t), map[string]string{
			"X-Consumer-ID": bobID, "X-Consumer-Username": "bob", "X-Consumer-Custom-ID": "",
			"X-Credential-Identifier": "bob", "X-Anonymous-Consumer": "",
		})
	})
	t.Run("hide_credentials", func(t *testing.T) {
		r := get(t, f.kong, "/t/basic-hide", "Authorization", basicAuth("alice", alicePassword))
		identity(t, r.echo(t), map[string]string{"Authorization": "", "X-Consumer-Username": "alice"})
	})
	t.Run("run_on_preflight", func(t *testing.T) {
		// false: a CORS preflight goes through unauthenticated.
		r := send(t, f.kong, http.MethodOptions, "/t/basic-hide", hdr("Origin", "https://app.example", "Access-Control-Request-Method", "GET"), "")
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": "", "X-Consumer-Username": ""})
		noRecord(t, f.kong, f.fileLog, r.ReqID)
		// true (the default): it is authenticated like any request.
		r = send(t, f.kong, http.MethodOptions, "/t/basic", hdr("Origin", "https://app.example", "Access-Control-Request-Method", "GET"), "")
		f.refused(t, r, plugin, 401, "BASIC_MISSING", challenge(ch, "BASIC_MISSING"))
	})
}

func testKey(t *testing.T, f *fixture) {
	const plugin = "authkit-key"
	ch := gateway.KeyChallenge("api")
	aliceID := f.consumerID(t, "alice")

	t.Run("refusals", func(t *testing.T) {
		f.refused(t, get(t, f.kong, "/t/key"), plugin, 401, "APIKEY_MISSING", challenge(ch, "APIKEY_MISSING"))
		ev := f.refused(t, get(t, f.kong, "/t/key", "apikey", "ak_nope"), plugin, 401, "APIKEY_INVALID", challenge(ch, "APIKEY_INVALID"))
		if strings.Contains(ev.Raw, "ak_nope") {
			t.Fatalf("the key leaked into error.log: %s", ev.Raw)
		}
		f.refused(t, get(t, f.kong, "/t/key?apikey="+bobKey, "apikey", aliceKey), plugin, 401, "APIKEY_DUPLICATE", challenge(ch, "APIKEY_DUPLICATE"))
		f.refused(t, get(t, f.kong, "/t/key", "apikey", aliceKey, "apikey", bobKey), plugin, 401, "APIKEY_DUPLICATE", challenge(ch, "APIKEY_DUPLICATE"))
		// Two key names: the first in key_names wins, as in key-auth.
		identity(t, get(t, f.kong, "/t/key", "x-api-key", bobKey, "apikey", aliceKey).echo(t), map[string]string{"X-Consumer-Username": "alice"})
		ev = f.refused(t, get(t, f.kong, "/t/key", "x-api-key", expiredKey), plugin, 401, "APIKEY_EXPIRED", challenge(ch, "APIKEY_EXPIRED"))
		if !strings.Contains(ev.Raw, "expired-key") {
			t.Fatalf("APIKEY_EXPIRED does not name the credential: %s", ev.Raw)
		}
	})
	t.Run("success, header, query and rotation", func(t *testing.T) {
		for _, tc := range []struct {
			path, hdrName, key, cred string
		}{
			{"/t/key", "apikey", aliceKey, "alice-key"},
			{"/t/key", "x-api-key", aliceKey, "alice-key"},
			{"/t/key?apikey=" + aliceKey, "", "", "alice-key"},
			{"/t/key", "apikey", aliceOldKey, "alice-old-key"},
		} {
			var r *response
			if tc.hdrName != "" {
				r = get(t, f.kong, tc.path, tc.hdrName, tc.key)
			} else {
				r = get(t, f.kong, tc.path)
			}
			e := r.echo(t)
			identity(t, e, map[string]string{"X-Consumer-ID": aliceID, "X-Consumer-Username": "alice", "X-Credential-Identifier": tc.cred, "X-Anonymous-Consumer": ""})
			if tc.hdrName != "" && e.get(tc.hdrName) != tc.key {
				t.Errorf("without hide_credentials the key stays: %v", e.Headers)
			}
			f.authenticated(t, r, aliceID)
		}
	})
	// The plugin server defers every call that answers nothing
	// (docs/plugin-server.md): on success, kong.client.authenticate and the
	// one set_headers go out with the end of the event; on a refusal, the
	// log line and the serialize value go out in the same write as
	// kong.response.exit. Kong must still have run each of them before it
	// moved on: the upstream request carries the headers, Kong's own log
	// serializer knows the consumer, error.log has the line and file-log
	// the authkit object.
	t.Run("deferred calls land before the event ends", func(t *testing.T) {
		r := get(t, f.kong, "/t/key-hide", "apikey", aliceKey, "X-Consumer-ID", "spoofed", "X-Anonymous-Consumer", "true")
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": aliceID, "X-Credential-Identifier": "alice-key", "apikey": "", "X-Anonymous-Consumer": ""})
		f.authenticated(t, r, aliceID)
		f.refused(t, get(t, f.kong, "/t/key-hide", "apikey", "ak_nope"), plugin, 401, "APIKEY_INVALID", challenge(gateway.KeyChallenge(""), "APIKEY_INVALID"))
	})
	t.Run("hide_credentials everywhere", func(t *testing.T) {
		e := get(t, f.kong, "/t/key-hide", "apikey", aliceKey).echo(t)
		identity(t, e, map[string]string{"apikey": "", "X-Consumer-Username": "alice"})

		e = get(t, f.kong, "/t/key-hide?a=1&apikey="+aliceKey+"&b=%20x").echo(t)
		if e.RawQuery != "a=1&b=%20x" {
			t.Errorf("query %q: the key must go, the rest byte for byte", e.RawQuery)
		}
		e = send(t, f.kong, http.MethodPost, "/t/key-hide", hdr("Content-Type", "application/x-www-form-urlencoded"), "x=1&apikey="+aliceKey).echo(t)
		if e.Body != "x=1" || e.get("Content-Length") != "3" {
			t.Errorf("form body %q (Content-Length %s)", e.Body, e.get("Content-Length"))
		}
		e = send(t, f.kong, http.MethodPost, "/t/key-hide", hdr("Content-Type", "application/json"), `{"apikey":"`+aliceKey+`","x":1}`).echo(t)
		if strings.Contains(e.Body, aliceKey) || !strings.Contains(e.Body, `"x":1`) {
			t.Errorf("JSON body %q", e.Body)
		}
	})
}
