package basicauth

import (
	"encoding/base64"
	"errors"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name, in   string
		user, pass string
		wantErr    error
	}{
		{"ok", "Basic " + b64("alice:s3cret"), "alice", "s3cret", nil},
		{"scheme case-insensitive", "bAsIc " + b64("alice:pw"), "alice", "pw", nil},
		{"password with colon", "Basic " + b64("alice:a:b"), "alice", "a:b", nil},
		{"empty password", "Basic " + b64("alice:"), "alice", "", nil},
		{"utf-8 user", "Basic " + b64("zoë:pässword"), "zoë", "pässword", nil},
		{"unpadded", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("ab:c")), "ab", "c", nil},
		{"extra spaces", "Basic    " + b64("a:b"), "a", "b", nil},
		{"empty header", "", "", "", ErrNoCredentials},
		{"bearer", "Bearer abc", "", "", ErrNoCredentials},
		{"scheme only", "Basic", "", "", ErrNotBase64},
		{"scheme and space", "Basic ", "", "", ErrNotBase64},
		{"not base64", "Basic !!!!", "", "", ErrNotBase64},
		{"url-safe alphabet", "Basic " + base64.URLEncoding.EncodeToString([]byte("a:b\xfb\xff")), "", "", ErrNotBase64},
		{"no colon", "Basic " + b64("alice"), "", "", ErrNoColon},
		{"empty user", "Basic " + b64(":pw"), "", "", ErrEmptyUser},
		{"latin-1", "Basic " + b64("j\xf6rg:pw"), "", "", ErrNotUTF8},
		{"control char", "Basic " + b64("al\x00ice:pw"), "", "", ErrControlChar},
		{"newline in password", "Basic " + b64("alice:p\nw"), "", "", ErrControlChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p, err := ParseHeader(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if u != tt.user || p != tt.pass {
				t.Fatalf("got %q/%q, want %q/%q", u, p, tt.user, tt.pass)
			}
		})
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"Basic " + b64("a:b"), "Basic", "basic =", "Basic " + b64("\xff:x"), "Bearer x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, p, err := ParseHeader(s)
		if err != nil {
			if u != "" || p != "" {
				t.Fatal("values returned with an error")
			}
			return
		}
		if u == "" || hasCTL(u) || hasCTL(p) {
			t.Fatalf("accepted invalid credentials %q:%q", u, p)
		}
		// Round trip: re-encoding must parse to the same pair.
		u2, p2, err := ParseHeader("Basic " + b64(u+":"+p))
		if err != nil || u2 != u || p2 != p {
			t.Fatalf("round trip %q:%q -> %q:%q %v", u, p, u2, p2, err)
		}
	})
}
