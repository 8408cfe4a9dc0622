package main

import (
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/apikey"
)

// Issue 11, item 9: a key name given more than once is APIKEY_DUPLICATE in
// every location, and a part that cannot be decoded but carries the key's
// name counts as present: the gateway must not authenticate one key while
// the upstream (or another parser) can read a second.
func TestDuplicateKeyInEveryLocation(t *testing.T) {
	s := plugin(t)
	inst := s.StartInstance(t, map[string]any{"key_in_body": true, "credentials": creds()})
	const form, js = "application/x-www-form-urlencoded", "application/json"
	for _, tt := range []struct {
		name string
		req  func() []string // method, query, body, then header pairs
	}{
		{"json member twice", func() []string {
			return []string{"POST", "", `{"apikey":"smuggled","apikey":"alice-new-key"}`, "Content-Type", js}
		}},
		{"json member twice, escaped name", func() []string {
			return []string{"POST", "", `{"api\u006bey":"smuggled","apikey":"alice-new-key"}`, "Content-Type", js}
		}},
		{"json member in another case", func() []string {
			return []string{"POST", "", `{"APIKEY":"smuggled","apikey":"alice-new-key"}`, "Content-Type", js}
		}},
		{"header and a non-string json member", func() []string {
			return []string{"POST", "", `{"apikey":{"k":"smuggled"}}`, "Content-Type", js, "apikey", "alice-new-key"}
		}},
		{"header and a broken json body naming the key", func() []string {
			return []string{"POST", "", `{"apikey":"smuggled",}`, "Content-Type", js, "apikey", "alice-new-key"}
		}},
		{"query value with a bad escape", func() []string {
			return []string{"GET", "apikey=alice-new-key&apikey=%zz", ""}
		}},
		{"header and an undecodable query value", func() []string {
			return []string{"GET", "apikey=%zzsmuggled", "", "apikey", "alice-new-key"}
		}},
		{"header and a key behind a semicolon", func() []string {
			return []string{"GET", "page=1;apikey=smuggled", "", "apikey", "alice-new-key"}
		}},
		{"form value with a bad escape", func() []string {
			return []string{"POST", "", "apikey=alice-new-key&apikey=%zz", "Content-Type", form}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.req()
			refused(t, inst.Access(t, req(a[0], a[1], a[2], a[3:]...)), 401, "APIKEY_DUPLICATE")
		})
	}

	// What stays accepted: one key, undecodable neighbours, hidden exactly.
	hide := s.StartInstance(t, map[string]any{"key_in_body": true, "hide_credentials": true, "credentials": creds()})
	res := hide.Access(t, req("GET", "x=%zz&apikey=alice-new-key&y=1", ""))
	accepted(t, res, aliceID, "alice-2026")
	if res.UpstreamQuery != "x=%zz&y=1" {
		t.Fatalf("upstream query %q", res.UpstreamQuery)
	}
	res = hide.Access(t, req("POST", "", `{"ApiKey":"alice-new-key","n":1}`, "Content-Type", js))
	accepted(t, res, aliceID, "alice-2026")
	if string(res.UpstreamBody) != `{"n":1}` {
		t.Fatalf("upstream body %q", res.UpstreamBody)
	}
}

// A body Kong spools to a file (larger than client_body_buffer_size) is
// searched like any other; one beyond MaxBodyBytes is not searched; one
// the plugin cannot open refuses (fail closed), never "no key in the body".
func TestKeyInSpooledBody(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	pad := "&pad=" + strings.Repeat("p", 64<<10)
	s := plugin(t)
	inst := s.StartInstance(t, map[string]any{"key_in_body": true, "hide_credentials": true, "credentials": creds()})
	res := inst.Access(t, req("POST", "", "apikey=alice-new-key"+pad, "Content-Type", form))
	accepted(t, res, aliceID, "alice-2026")
	if strings.Contains(string(res.UpstreamBody), "alice-new-key") {
		t.Fatal("key in a spooled body reached the upstream")
	}
	refused(t, inst.Access(t, req("POST", "", "apikey=other"+pad, "Content-Type", form, "apikey", "alice-new-key")), 401, "APIKEY_DUPLICATE")
	huge := "x=" + strings.Repeat("p", apikey.MaxBodyBytes)
	accepted(t, inst.Access(t, req("POST", "", huge, "Content-Type", form, "apikey", "alice-new-key")), aliceID, "alice-2026")

	unreachable := plugin(t)
	unreachable.BodyFileUnreachable = true
	u := unreachable.StartInstance(t, map[string]any{"key_in_body": true, "credentials": creds()})
	refused(t, u.Access(t, req("POST", "", "apikey=other"+pad, "Content-Type", form, "apikey", "alice-new-key")), 500, "INTERNAL_ERROR")
}

// One request header that is not UTF-8 makes Kong's get_headers unreadable
// for a go-pdk plugin (seen in Kong 3.9.3): every header, the key among
// them, would look absent. The request is refused, never authenticated by
// a query key while a header key goes upstream unseen.
func TestUnreadableHeadersRefused(t *testing.T) {
	inst := plugin(t).StartInstance(t, map[string]any{"credentials": creds()})
	res := inst.Access(t, req("GET", "apikey=alice-new-key", "", "apikey", "smuggled", "X-Latin1", "caf\xe9"))
	refused(t, res, 500, "INTERNAL_ERROR")
	if !strings.Contains(res.Logs[0].Message, "UTF-8") {
		t.Fatalf("the log must say why: %s", res.Logs[0].Message)
	}
}
