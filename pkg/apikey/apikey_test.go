package apikey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

func TestExtract(t *testing.T) {
	names := []string{"apikey", "x-api-key"}
	tests := []struct {
		name                string
		r                   Request
		header, query, body bool
		want                Found
		wantErr             error
	}{
		{"header", Request{Headers: map[string][]string{"apikey": {"k1"}}}, true, true, false, Found{"k1", "apikey", InHeader}, nil},
		{"second name", Request{Headers: map[string][]string{"x-api-key": {"k2"}}}, true, true, false, Found{"k2", "x-api-key", InHeader}, nil},
		{"query", Request{RawQuery: "a=1&apikey=k%2B3"}, true, true, false, Found{"k+3", "apikey", InQuery}, nil},
		{"query off", Request{RawQuery: "apikey=k"}, true, false, false, Found{}, ErrMissing},
		{"header off", Request{Headers: map[string][]string{"apikey": {"k"}}}, false, true, false, Found{}, ErrMissing},
		{"form body", Request{Body: []byte("apikey=kb&x=1"), ContentType: "application/x-www-form-urlencoded; charset=utf-8"}, true, true, true, Found{"kb", "apikey", InBody}, nil},
		{"json body", Request{Body: []byte(`{"apikey":"kj","n":1}`), ContentType: "application/json"}, true, true, true, Found{"kj", "apikey", InBody}, nil},
		{"json body non-string", Request{Body: []byte(`{"apikey":42}`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrNotAKey},
		{"json member twice", Request{Body: []byte(`{"apikey":"a","apikey":"b"}`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrDuplicate},
		{"json escaped name", Request{Body: []byte(`{"api\u006bey":"a","apikey":"b"}`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrDuplicate},
		{"json name in another case", Request{Body: []byte(`{"ApiKey":"kc"}`), ContentType: "application/json"}, true, true, true, Found{"kc", "apikey", InBody}, nil},
		{"json nested member ignored", Request{Body: []byte(`{"x":{"apikey":"n"},"apikey":"kj"}`), ContentType: "application/json"}, true, true, true, Found{"kj", "apikey", InBody}, nil},
		{"json array body", Request{Body: []byte(`[{"apikey":"n"}]`), ContentType: "application/json"}, true, true, true, Found{}, ErrMissing},
		{"json broken, names the key", Request{Body: []byte(`{"apikey":"kj",}`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrNotAKey},
		{"json trailing data", Request{Body: []byte(`{"apikey":"kj"}{"apikey":"x"}`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrNotAKey},
		{"json unterminated value", Request{Body: []byte(`{"apikey":"kj`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrNotAKey},
		{"json broken, no key", Request{Body: []byte(`{"x":1,`), ContentType: "application/json"}, true, true, true, Found{}, ErrMissing},
		{"header and broken json naming the key", Request{Headers: map[string][]string{"apikey": {"k"}}, Body: []byte(`{"APIKEY"`), ContentType: "application/json"}, true, true, true, Found{Name: "apikey", Location: "header+body"}, ErrDuplicate},
		{"query value with bad escape", Request{RawQuery: "apikey=k&apikey=%zz"}, true, true, false, Found{Name: "apikey", Location: InQuery}, ErrDuplicate},
		{"header and undecodable query", Request{Headers: map[string][]string{"apikey": {"k"}}, RawQuery: "apikey=%zz"}, true, true, false, Found{Name: "apikey", Location: "header+query"}, ErrDuplicate},
		{"key behind a semicolon", Request{Headers: map[string][]string{"apikey": {"k"}}, RawQuery: "a=1;apikey=j"}, true, true, false, Found{Name: "apikey", Location: "header+query"}, ErrDuplicate},
		{"undecodable query key alone", Request{RawQuery: "apikey=k%zz"}, true, true, false, Found{"k%zz", "apikey", InQuery}, nil},
		{"form value with bad escape", Request{Body: []byte("apikey=k&apikey=%zz"), ContentType: "application/x-www-form-urlencoded"}, true, true, true, Found{Name: "apikey", Location: InBody}, ErrDuplicate},
		{"body off", Request{Body: []byte("apikey=kb"), ContentType: "application/x-www-form-urlencoded"}, true, true, false, Found{}, ErrMissing},
		{"other body type", Request{Body: []byte("apikey=kb"), ContentType: "text/plain"}, true, true, true, Found{}, ErrMissing},
		{"two headers", Request{Headers: map[string][]string{"apikey": {"a", "b"}}}, true, true, false, Found{Name: "apikey", Location: InHeader}, ErrDuplicate},
		{"header and query", Request{Headers: map[string][]string{"apikey": {"a"}}, RawQuery: "apikey=b"}, true, true, false, Found{Name: "apikey", Location: "header+query"}, ErrDuplicate},
		{"twice in query", Request{RawQuery: "apikey=a&apikey=b"}, true, true, false, Found{Name: "apikey", Location: InQuery}, ErrDuplicate},
		{"empty value ignored", Request{Headers: map[string][]string{"apikey": {" "}}, RawQuery: "apikey="}, true, true, false, Found{}, ErrMissing},
		{"broken escape elsewhere", Request{RawQuery: "x=%zz&apikey=k"}, true, true, false, Found{"k", "apikey", InQuery}, nil},
		{"too long", Request{Headers: map[string][]string{"apikey": {strings.Repeat("k", MaxKeyLen+1)}}}, true, true, false, Found{Name: "apikey", Location: InHeader}, ErrTooLong},
		{"missing", Request{}, true, true, true, Found{}, ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Extract(names, tt.r, tt.header, tt.query, tt.body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCompileCredentials(t *testing.T) {
	h := FormatHash(HashKey("k"))
	tests := []struct {
		name  string
		creds []Credential
		want  string
	}{
		{"plaintext", []Credential{{"c1", "alice", "my-secret-key", ""}}, "credentials[0].key_hash: must be \"sha256:<64 hex digits>\" (a plaintext key"},
		{"other scheme", []Credential{{"c1", "alice", "md5:abc", ""}}, `got scheme "md5"`},
		{"short", []Credential{{"c1", "alice", "sha256:abcd", ""}}, "64 hex digits, got 4"},
		{"not hex", []Credential{{"c1", "alice", "sha256:" + strings.Repeat("z", 64), ""}}, "not hex"},
		{"no id", []Credential{{"", "alice", h, ""}}, "credentials[0].id"},
		{"control character in id", []Credential{{"c1\r\nX-Evil: 1", "alice", h, ""}}, "credentials[0].id: \"c1\\r\\nX-Evil: 1\" has a control character"},
		{"dup id", []Credential{{"c1", "alice", h, ""}, {"c1", "bob", FormatHash(HashKey("j")), ""}}, "credentials[1].id"},
		{"dup key", []Credential{{"c1", "alice", h, ""}, {"c2", "bob", h, ""}}, `credentials[1].key_hash: the same key as credential "c1"`},
		{"no consumer", []Credential{{"c1", "", h, ""}}, "credentials[0].consumer"},
		{"bad time", []Credential{{"c1", "a", h, "tomorrow"}}, "credentials[0].expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileCredentials("credentials", tt.creds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	s, err := CompileCredentials("credentials", []Credential{{"c1", "alice", strings.ToUpper(h[:7]) + h[7:], ""}})
	if err == nil {
		t.Fatalf("an upper-case scheme must be refused, got %v", s)
	}
}

func TestLookupAndExpiry(t *testing.T) {
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	a, err := (&Config{Credentials: []Credential{
		{"old", "alice", FormatHash(HashKey("old-key")), past},
		{"new", "alice", FormatHash(HashKey("new-key")), future},
	}}).Compile()
	if err != nil {
		t.Fatal(err)
	}
	if e := a.static.lookup("new-key"); e == nil || e.id != "new" {
		t.Fatal("new key not found")
	}
	if e := a.static.lookup("nope"); e != nil {
		t.Fatal("unknown key found")
	}
	if e := a.static.lookup("old-key"); e == nil || e.expires.IsZero() {
		t.Fatal("expired key must still be found (to report APIKEY_EXPIRED)")
	}
}

func TestStrip(t *testing.T) {
	if got := gateway.StripQueryParam("a=1&apikey=k&b=%20x&apikey=j", "apikey"); got != "a=1&b=%20x" {
		t.Fatalf("query %q", got)
	}
	if got := gateway.StripQueryParam("apikey=k", "apikey"); got != "" {
		t.Fatalf("query %q", got)
	}
	if got := string(StripBody([]byte("x=1&apikey=k"), "application/x-www-form-urlencoded", "apikey")); got != "x=1" {
		t.Fatalf("form %q", got)
	}
	if got := string(StripBody([]byte(`{"apikey":"k","n":[1,2],"s":"<a>"}`), "application/json", "apikey")); got != `{"n":[1,2],"s":"<a>"}` {
		t.Fatalf("json %q", got)
	}
	if got := string(StripBody([]byte(`{"APIKey":"k","n":1}`), "application/json", "apikey")); got != `{"n":1}` {
		t.Fatalf("json, other case %q", got)
	}
	if got := string(StripBody([]byte("x=1&apikey=%zz&apikey=k"), "application/x-www-form-urlencoded", "apikey")); got != "x=1" {
		t.Fatalf("form, undecodable %q", got)
	}
	if StripBody([]byte(`{"n":1}`), "application/json", "apikey") != nil {
		t.Fatal("unchanged body must return nil")
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("k", "apikey=k&x=%zz", []byte(`{"apikey":"j"}`), "application/json")
	f.Add("", "apikey=a&apikey=b", []byte("apikey=1"), "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, header, query string, body []byte, ct string) {
		r := Request{Headers: map[string][]string{"apikey": {header}}, RawQuery: query, Body: body, ContentType: ct}
		got, err := Extract([]string{"apikey"}, r, true, true, true)
		if err == nil && (got.Key == "" || len(got.Key) > MaxKeyLen) {
			t.Fatalf("accepted %q", got.Key)
		}
		// Whatever key was accepted, hiding it leaves no key name behind
		// for Extract to find in that place.
		if err == nil && got.Location != InHeader {
			left := r
			left.Headers = nil
			switch got.Location {
			case InQuery:
				left.RawQuery = gateway.StripQueryParam(query, "apikey")
			case InBody:
				if b := StripBody(body, ct, "apikey"); b != nil {
					left.Body = b
				}
			}
			if f, err := Extract([]string{"apikey"}, left, false, got.Location == InQuery, got.Location == InBody); !errors.Is(err, ErrMissing) {
				t.Fatalf("after hiding %s, still found %+v %v", got.Location, f, err)
			}
		}
	})
}

// FuzzJSONMembers: for a body encoding/json accepts as an object, the
// members are exactly its keys, the last string value of each name is what
// encoding/json keeps, and a name repeated is seen repeated.
func FuzzJSONMembers(f *testing.F) {
	for _, s := range []string{`{"apikey":"a","apikey":"b"}`, `{"a":{"b":1},"c":[1,"x"]}`, `{"api\u006bey":1}`, `{"a":"b",}`, `[1]`, `{"a":"b"} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		members, broken := jsonMembers(body)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			if !broken && json.Valid(body) && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
				t.Fatalf("valid object %q: %v", body, err)
			}
			return
		}
		if broken {
			t.Fatalf("json.Unmarshal accepts %q, jsonMembers calls it broken", body)
		}
		seen := map[string]int{}
		for _, m := range members {
			seen[m.name]++
			if _, ok := obj[m.name]; !ok {
				t.Fatalf("member %q not in %v", m.name, obj)
			}
		}
		if len(seen) != len(obj) {
			t.Fatalf("members %v, encoding/json keys %d", seen, len(obj))
		}
		for i := len(members) - 1; i >= 0; i-- {
			m := members[i]
			var s string
			if m.isString != (json.Unmarshal(obj[m.name], &s) == nil) && seen[m.name] == 1 {
				t.Fatalf("member %q string=%v, encoding/json %s", m.name, m.isString, obj[m.name])
			}
		}
	})
}

func FuzzLoadCredentials(f *testing.F) {
	f.Add([]byte(`[{"id":"a","consumer":"c","key_hash":"sha256:` + strings.Repeat("ab", 32) + `","expires_at":"2030-01-01T00:00:00Z"}]`))
	f.Add([]byte("- id: a\n  key_hash: plain\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		creds, err := credfile.Decode[Credential](data)
		if err != nil {
			return
		}
		s, err := CompileCredentials("credentials_file", creds)
		if err != nil {
			return
		}
		if s.Len() != len(creds) {
			t.Fatalf("%d credentials, %d stored", len(creds), s.Len())
		}
	})
}

func storeOf(b *testing.B, n int) *Store {
	creds := make([]Credential, n)
	for i := range creds {
		creds[i] = Credential{ID: fmt.Sprint("c", i), Consumer: "alice", KeyHash: FormatHash(HashKey(fmt.Sprint("key-", i)))}
	}
	s, err := CompileCredentials("credentials", creds)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchLookup(b *testing.B, n int) {
	s := storeOf(b, n)
	key := fmt.Sprint("key-", n/2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.lookup(key) == nil {
			b.Fatal("not found")
		}
	}
}

// BenchmarkExtractHeaderAndQuery is the default config's hot path: the key
// in a header, the query searched for a duplicate.
func BenchmarkExtractHeaderAndQuery(b *testing.B) {
	r := Request{Headers: map[string][]string{"apikey": {"k_0123456789abcdef"}, "accept": {"*/*"}}, RawQuery: "page=2&sort=desc&lang=en"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract([]string{"apikey"}, r, true, true, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup1(b *testing.B)      { benchLookup(b, 1) }
func BenchmarkLookup100000(b *testing.B) { benchLookup(b, 100000) }

func TestFingerprintMatchesSecretFingerprint(t *testing.T) {
	h := HashKey("some-key")
	if got, want := FormatHash(h)[len("sha256:"):len("sha256:")+8], secret.Fingerprint("some-key"); got != want {
		t.Fatalf("key_hash prefix %s, fingerprint %s", got, want)
	}
}
