package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/apikey"
)

const (
	aliceID = "5f8a6e3c-0d6b-4c3e-8f5e-3b1f2a9c7d10"
	bobID   = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	anonID  = "0b9e8d7c-6f5a-4b3c-9d2e-1f0a9b8c7d6e"
)

func hash(k string) string { return apikey.FormatHash(apikey.HashKey(k)) }

func plugin(t *testing.T) *kongwire.Server {
	t.Helper()
	s := kongwire.Start(t, kongwire.Build(t, "authkit-key"))
	s.SetConsumers(
		kongwire.Consumer{ID: aliceID, Username: "alice"},
		kongwire.Consumer{ID: bobID, Username: "bob"},
		kongwire.Consumer{ID: anonID, Username: "anonymous"},
	)
	return s
}

func creds() []any {
	hour := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	ago := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	return []any{
		map[string]any{"id": "alice-2025", "consumer": "alice", "key_hash": hash("alice-old-key"), "expires_at": hour},
		map[string]any{"id": "alice-2026", "consumer": "alice", "key_hash": hash("alice-new-key")},
		map[string]any{"id": "bob-expired", "consumer": bobID, "key_hash": hash("bob-expired-key"), "expires_at": ago},
	}
}

func req(method, query string, body string, h ...string) *kongwire.Request {
	r := &kongwire.Request{Method: method, Path: "/key", RawQuery: query, Headers: http.Header{}}
	if body != "" {
		r.Body = []byte(body)
	}
	for i := 0; i+1 < len(h); i += 2 {
		r.Headers.Add(h[i], h[i+1])
	}
	return r
}

func refused(t *testing.T, res *kongwire.Result, status int, code string) {
	t.Helper()
	kongwire.CheckRefusal(t, res, "authkit-key", status, code)
}

func accepted(t *testing.T, res *kongwire.Result, consumerID, credID string) {
	t.Helper()
	if res.Exited || res.Err != nil || res.AuthConsumer == nil || res.AuthConsumer.ID != consumerID {
		t.Fatalf("want accepted as %s: %d %s %v %+v", consumerID, res.Status, res.Body, res.Logs, res.AuthConsumer)
	}
	if res.AuthCredential == nil || res.AuthCredential.ID != credID || res.UpstreamHeaders.Get("X-Credential-Identifier") != credID {
		t.Fatalf("credential %+v / %v", res.AuthCredential, res.UpstreamHeaders)
	}
	if res.UpstreamHeaders.Get("X-Consumer-ID") != consumerID {
		t.Fatalf("X-Consumer-ID %v", res.UpstreamHeaders)
	}
}

func TestSchemaAsKongSeesIt(t *testing.T) {
	info := kongwire.Dump(t, kongwire.Build(t, "authkit-key"))
	kongwire.CheckSchema(t, info, kongwire.JSONTags(apikey.Config{}))
	if p := info.Plugins[0]; p.Name != "authkit-key" || p.Priority != 1250 {
		t.Fatalf("%+v", p)
	}
}

func TestKeyEndToEnd(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, map[string]any{"key_names": []any{"apikey", "x-api-key"}, "key_in_body": true, "credentials": creds(), "realm": "api"})

	t.Run("header", func(t *testing.T) {
		res := inst.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
		accepted(t, res, aliceID, "alice-2026")
		if res.UpstreamHeaders.Get("Apikey") != "alice-new-key" {
			t.Fatal("without hide_credentials the key goes upstream")
		}
	})
	t.Run("second key name", func(t *testing.T) {
		accepted(t, inst.Access(t, req("GET", "", "", "X-API-Key", "alice-new-key")), aliceID, "alice-2026")
	})
	t.Run("query", func(t *testing.T) {
		accepted(t, inst.Access(t, req("GET", "page=2&apikey=alice-new-key", "")), aliceID, "alice-2026")
	})
	t.Run("form body", func(t *testing.T) {
		accepted(t, inst.Access(t, req("POST", "", "apikey=alice-new-key&x=1", "Content-Type", "application/x-www-form-urlencoded")), aliceID, "alice-2026")
	})
	t.Run("json body", func(t *testing.T) {
		accepted(t, inst.Access(t, req("POST", "", `{"apikey":"alice-new-key","x":1}`, "Content-Type", "application/json")), aliceID, "alice-2026")
	})
	t.Run("rotation: old and new key of one consumer", func(t *testing.T) {
		accepted(t, inst.Access(t, req("GET", "", "", "apikey", "alice-old-key")), aliceID, "alice-2025")
		accepted(t, inst.Access(t, req("GET", "", "", "apikey", "alice-new-key")), aliceID, "alice-2026")
	})
	t.Run("duplicate: two headers", func(t *testing.T) {
		refused(t, inst.Access(t, req("GET", "", "", "apikey", "alice-new-key", "apikey", "other")), 401, "APIKEY_DUPLICATE")
	})
	t.Run("duplicate: header and query", func(t *testing.T) {
		refused(t, inst.Access(t, req("GET", "apikey=alice-old-key", "", "apikey", "alice-new-key")), 401, "APIKEY_DUPLICATE")
	})
	t.Run("missing", func(t *testing.T) {
		res := inst.Access(t, req("GET", "", ""))
		refused(t, res, 401, "APIKEY_MISSING")
		if got := res.Header("WWW-Authenticate"); got != `Key realm="api"` {
			t.Fatalf("challenge %q", got)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		res := inst.Access(t, req("GET", "", "", "apikey", "guessed-key"))
		refused(t, res, 401, "APIKEY_INVALID")
		fp := apikey.FormatHash(apikey.HashKey("guessed-key"))[7:15]
		if !strings.Contains(res.Logs[0].Message, `"credential":"`+fp+`"`) || strings.Contains(res.Logs[0].Message, "guessed-key") {
			t.Fatalf("log must carry the fingerprint %s, never the key: %s", fp, res.Logs[0].Message)
		}
	})
	t.Run("expired", func(t *testing.T) {
		res := inst.Access(t, req("GET", "", "", "apikey", "bob-expired-key"))
		refused(t, res, 401, "APIKEY_EXPIRED")
		if !strings.Contains(res.Logs[0].Message, "bob-expired") || strings.Contains(res.Logs[0].Message, "bob-expired-key") {
			t.Fatalf("log must name the credential id, not the key: %s", res.Logs[0].Message)
		}
	})
}

func TestHideCredentials(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, map[string]any{"key_in_body": true, "hide_credentials": true, "credentials": creds()})
	res := inst.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	accepted(t, res, aliceID, "alice-2026")
	if _, ok := res.UpstreamHeaders["Apikey"]; ok {
		t.Fatal("header key reached the upstream")
	}
	res = inst.Access(t, req("GET", "a=1&apikey=alice-new-key&b=2", ""))
	accepted(t, res, aliceID, "alice-2026")
	if res.UpstreamQuery != "a=1&b=2" {
		t.Fatalf("upstream query %q", res.UpstreamQuery)
	}
	res = inst.Access(t, req("POST", "", "x=1&apikey=alice-new-key", "Content-Type", "application/x-www-form-urlencoded"))
	accepted(t, res, aliceID, "alice-2026")
	if string(res.UpstreamBody) != "x=1" {
		t.Fatalf("upstream form body %q", res.UpstreamBody)
	}
	res = inst.Access(t, req("POST", "", `{"apikey":"alice-new-key","x":1}`, "Content-Type", "application/json"))
	accepted(t, res, aliceID, "alice-2026")
	if string(res.UpstreamBody) != `{"x":1}` {
		t.Fatalf("upstream json body %q", res.UpstreamBody)
	}
}

func TestAnonymous(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, map[string]any{"anonymous": anonID, "credentials": creds()})
	res := inst.Access(t, req("GET", "", "", "apikey", "nope"))
	if res.Exited || res.AuthConsumer == nil || res.AuthConsumer.ID != anonID || res.UpstreamHeaders.Get("X-Anonymous-Consumer") != "true" {
		t.Fatalf("anonymous: %d %s %+v %v", res.Status, res.Body, res.AuthConsumer, res.UpstreamHeaders)
	}
	accepted(t, inst.Access(t, req("GET", "", "", "apikey", "alice-new-key")), aliceID, "alice-2026")
}

func TestCredentialsFileEditedWhileRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path+".tmp", []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil { // atomic, as a Kubernetes secret update
			t.Fatal(err)
		}
	}
	write("- id: bob-1\n  consumer: bob\n  key_hash: " + hash("bob-key-1") + "\n")
	s := plugin(t)
	inst := s.StartInstance(t, map[string]any{"credentials_file": path})
	accepted(t, inst.Access(t, req("GET", "", "", "apikey", "bob-key-1")), bobID, "bob-1")
	refused(t, inst.Access(t, req("GET", "", "", "apikey", "bob-key-2")), 401, "APIKEY_INVALID")

	write("credentials:\n- id: bob-2\n  consumer: bob\n  key_hash: " + hash("bob-key-2") + "\n")
	time.Sleep(1100 * time.Millisecond) // the file is stat'ed at most once a second
	accepted(t, inst.Access(t, req("GET", "", "", "apikey", "bob-key-2")), bobID, "bob-2")
	refused(t, inst.Access(t, req("GET", "", "", "apikey", "bob-key-1")), 401, "APIKEY_INVALID")
	if s.Exited() {
		t.Fatal("the plugin restarted")
	}
}

// A plaintext key in the config is refused by Kong's schema (the plugin's
// -dump declares the key_hash pattern), naming the entry, never echoing the
// key. In a credentials_file, which Kong never sees, the plugin refuses it:
// CONFIG_INVALID, the log naming the entry.
func TestMalformedCredentialsNameTheEntry(t *testing.T) {
	s := plugin(t)
	c := append(creds(), map[string]any{"id": "plain", "consumer": "alice", "key_hash": "my-plaintext-key"})
	_, err := s.TryStartInstance(map[string]any{"credentials": c})
	if err == nil || !strings.Contains(err.Error(), "in entry 4 of 'credentials': in 'key_hash': must be \"sha256:<64 hex digits>\"") ||
		strings.Contains(err.Error(), "my-plaintext-key") {
		t.Fatalf("Kong's schema: %v", err)
	}

	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(path, []byte("- id: plain\n  consumer: alice\n  key_hash: my-plaintext-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := s.StartInstance(t, map[string]any{"credentials_file": path}).Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	refused(t, res, 500, "CONFIG_INVALID")
	if !strings.Contains(res.Logs[0].Message, "credentials_file[0].key_hash") || strings.Contains(res.Logs[0].Message, "my-plaintext-key") {
		t.Fatalf("log: %s", res.Logs[0].Message)
	}
}

func TestRoundTrips(t *testing.T) {
	s := plugin(t)
	headerOnly := s.StartInstance(t, map[string]any{"key_in_query": false, "credentials": creds()})
	headerOnly.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	ok := headerOnly.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	bad := headerOnly.Access(t, req("GET", "", "", "apikey", "nope"))
	def := s.StartInstance(t, map[string]any{"credentials": creds()})
	def.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	okQ := def.Access(t, req("GET", "", "", "apikey", "alice-new-key"))
	badQ := def.Access(t, req("GET", "", "", "apikey", "nope"))
	t.Logf("header only: success %d, refusal %d; header+query (default): success %d, refusal %d", ok.RoundTrips(), bad.RoundTrips(), okQ.RoundTrips(), badQ.RoundTrips())
	// The header and the query come in one batch: looking in the query
	// too costs a call but no round trip.
	kongwire.CheckTrips(t, "header only, success", ok, 1, 2, "kong.request.get_headers", "kong.client.authenticate", "kong.service.request.set_headers")
	kongwire.CheckTrips(t, "header only, refusal", bad, 1, 2, "kong.request.get_headers", "kong.log.notice", "kong.log.set_serialize_value", "kong.response.exit")
	kongwire.CheckTrips(t, "default, success", okQ, 1, 2, "kong.request.get_headers", "kong.request.get_raw_query", "kong.client.authenticate", "kong.service.request.set_headers")
	kongwire.CheckTrips(t, "default, refusal", badQ, 1, 2, "kong.request.get_headers", "kong.request.get_raw_query", "kong.log.notice", "kong.log.set_serialize_value", "kong.response.exit")
}
