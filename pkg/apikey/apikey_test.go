package apikey

import (
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
		{"json body non-string", Request{Body: []byte(`{"apikey":42}`), ContentType: "application/json"}, true, true, true, Found{}, ErrMissing},
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
		_ = gateway.StripQueryParam(query, "apikey")
		_ = StripBody(body, ct, "apikey")
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

func BenchmarkLookup1(b *testing.B)      { benchLookup(b, 1) }
func BenchmarkLookup100000(b *testing.B) { benchLookup(b, 100000) }

func TestFingerprintMatchesSecretFingerprint(t *testing.T) {
	h := HashKey("some-key")
	if got, want := FormatHash(h)[len("sha256:"):len("sha256:")+8], secret.Fingerprint("some-key"); got != want {
		t.Fatalf("key_hash prefix %s, fingerprint %s", got, want)
	}
}
