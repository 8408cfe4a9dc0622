package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// testLogicalOR: an authkit plugin and a bundled Kong auth plugin on one
// route, both with `anonymous`: a request passes with either credential,
// and only a request with neither continues as the anonymous consumer
// (Kong's "logical OR" of auth plugins).
func testLogicalOR(t *testing.T, f *fixture) {
	aliceID, bobID, anonID := f.consumerID(t, "alice"), f.consumerID(t, "bob"), f.consumerID(t, "anonymous")

	t.Run("bundled key-auth first, then authkit-basic", func(t *testing.T) {
		// key-auth (priority 1250) authenticates bob: authkit-basic (1100)
		// sees Kong's credential and leaves the request alone.
		r := get(t, f.kong, "/t/or-basic", "apikey", bundledKey, "Authorization", basicAuth("alice", "wrong-but-unused"))
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": bobID, "X-Consumer-Username": "bob", "X-Anonymous-Consumer": ""})
		f.authenticated(t, r, bobID)
		noRecord(t, f.kong, f.fileLog, r.ReqID)

		// key-auth falls back to anonymous; authkit-basic then
		// authenticates alice and must remove key-auth's anonymous marker.
		r = get(t, f.kong, "/t/or-basic", "Authorization", basicAuth("alice", alicePassword))
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": aliceID, "X-Consumer-Username": "alice",
			"X-Credential-Identifier": "alice", "X-Anonymous-Consumer": ""})
		f.authenticated(t, r, aliceID)

		// Neither: anonymous, and authkit's serialize value says why.
		r = get(t, f.kong, "/t/or-basic")
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": anonID, "X-Consumer-Username": "anonymous",
			"X-Anonymous-Consumer": "true", "X-Credential-Identifier": ""})
		f.authenticated(t, r, anonID)
		entry := fileLogEntry(t, f.fileLog, r.ReqID)
		if ak, _ := entry["authkit"].(map[string]any); ak["code"] != "BASIC_MISSING" || ak["anonymous"] != "true" {
			t.Fatalf("file-log authkit %v, want BASIC_MISSING with anonymous", entry["authkit"])
		}
	})
	t.Run("authkit-key first, then bundled basic-auth", func(t *testing.T) {
		r := get(t, f.kong, "/t/or-key", "apikey", aliceKey)
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": aliceID, "X-Credential-Identifier": "alice-key", "X-Anonymous-Consumer": ""})

		// authkit-key falls back to anonymous, Kong's basic-auth
		// authenticates bob.
		r = get(t, f.kong, "/t/or-key", "Authorization", basicAuth(bundledUser, bundledPass))
		identity(t, r.echo(t), map[string]string{"X-Consumer-ID": bobID, "X-Consumer-Username": "bob", "X-Anonymous-Consumer": ""})
		f.authenticated(t, r, bobID)

		r = get(t, f.kong, "/t/or-key", "apikey", "ak_wrong")
		identity(t, r.echo(t), map[string]string{"X-Consumer-Username": "anonymous", "X-Anonymous-Consumer": "true"})
	})
	t.Run("kong.client.authenticate feeds Kong's ACL plugin", func(t *testing.T) {
		r := get(t, f.kong, "/t/acl", "apikey", aliceKey)
		identity(t, r.echo(t), map[string]string{"X-Consumer-Username": "alice"})
		// bob is authenticated by authkit-key but not in the group: ACL,
		// reading the consumer authkit handed to Kong, refuses.
		r = get(t, f.kong, "/t/acl", "apikey", bobKey)
		var body struct{ Message string }
		_ = json.Unmarshal(r.Body, &body)
		if r.Status != http.StatusForbidden || !strings.Contains(body.Message, "cannot consume") {
			t.Fatalf("ACL: %d %s", r.Status, r.Body)
		}
		f.authenticated(t, r, f.consumerID(t, "bob"))
	})
}

// testRepoKongYAML runs README's Quickstart requests against the
// repository's own kong.yaml (loaded unchanged but for the demo hosts).
func testRepoKongYAML(t *testing.T, f *fixture) {
	tok := f.hydra.ClientCredentialsToken(t, demoClient, demoSecret, "read", []string{apiAudience})
	if r := get(t, f.kong, "/oauth", "Authorization", bearer(tok)); r.Status != 200 {
		t.Fatalf("/oauth with a token: %d %s", r.Status, r.Body)
	}
	f.refused(t, get(t, f.kong, "/oauth"), oauthPlugin, 401, "OAUTH_TOKEN_MISSING", `Bearer realm="api"`)
	tampered := tok[:len(tok)-5] + "AAAAA"
	if tampered == tok {
		tampered = tok[:len(tok)-5] + "BBBBB"
	}
	f.refused(t, get(t, f.kong, "/oauth", "Authorization", bearer(tampered)), oauthPlugin, 401, "OAUTH_SIGNATURE_INVALID", bearerChallenge("OAUTH_SIGNATURE_INVALID", ""))
	if r := get(t, f.kong, "/basic", "Authorization", basicAuth(demoBasicUser, demoBasicPassword)); r.Status != 200 {
		t.Fatalf("/basic: %d %s", r.Status, r.Body)
	}
	f.refused(t, get(t, f.kong, "/key", "apikey", demoExpiredKey), "authkit-key", 401, "APIKEY_EXPIRED", `Key realm="api"`)
	r := tokenPost(t, f, "/provider/oauth2/token", "grant_type=client_credentials", demoClient, "wrong-secret")
	if r.Status != 401 || r.Header.Get("X-Authkit-Code") != "OAUTH_CLIENT_AUTH_FAILED" {
		t.Fatalf("provider: %d %q %s", r.Status, r.Header.Get("X-Authkit-Code"), r.Body)
	}
}
