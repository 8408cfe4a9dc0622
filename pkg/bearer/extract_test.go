package bearer

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/=="

func TestExtract(t *testing.T) {
	long := strings.Repeat("a", MaxTokenLen+1)
	tests := []struct {
		name       string
		in         Input
		wantToken  string
		wantSource string
		wantErr    error
	}{
		{"header", Input{Authorization: []string{"Bearer " + tok}}, tok, SourceHeader, nil},
		{"scheme lower case", Input{Authorization: []string{"bearer " + tok}}, tok, SourceHeader, nil},
		{"scheme mixed case", Input{Authorization: []string{"BeArEr " + tok}}, tok, SourceHeader, nil},
		{"several spaces", Input{Authorization: []string{"Bearer    abc"}}, "abc", SourceHeader, nil},
		{"surrounding OWS", Input{Authorization: []string{" \tBearer abc \t"}}, "abc", SourceHeader, nil},
		{"padding only at end", Input{Authorization: []string{"Bearer abc=="}}, "abc==", SourceHeader, nil},
		{"exactly max length", Input{Authorization: []string{"Bearer " + long[1:]}}, long[1:], SourceHeader, nil},
		{"query", Input{Query: []string{tok}}, tok, SourceQuery, nil},
		{"cookie", Input{Cookie: []string{tok}}, tok, SourceCookie, nil},
		{"sources off", Input{Query: nil, Cookie: nil, Authorization: []string{"Bearer x"}}, "x", SourceHeader, nil},
		{"empty slices mean absent", Input{Authorization: []string{}, Query: []string{}, Cookie: []string{}}, "", "", errcode.TokenMissing},

		{"nothing", Input{}, "", "", errcode.TokenMissing},
		{"two headers", Input{Authorization: []string{"Bearer a", "Bearer a"}}, "", "", errcode.RequestInvalid},
		{"two headers one basic", Input{Authorization: []string{"Basic dTpw", "Bearer a"}}, "", "", errcode.RequestInvalid},
		{"two query values", Input{Query: []string{"a", "b"}}, "", "", errcode.RequestInvalid},
		{"two cookies", Input{Cookie: []string{"a", "a"}}, "", "", errcode.RequestInvalid},
		{"header and query", Input{Authorization: []string{"Bearer a"}, Query: []string{"a"}}, "", "", errcode.RequestInvalid},
		{"header and cookie", Input{Authorization: []string{"Bearer a"}, Cookie: []string{"b"}}, "", "", errcode.RequestInvalid},
		{"query and cookie", Input{Query: []string{"a"}, Cookie: []string{"b"}}, "", "", errcode.RequestInvalid},
		{"basic alone", Input{Authorization: []string{"Basic dXNlcjpwYXNz"}}, "", "", errcode.TokenMissing},
		{"basic and query", Input{Authorization: []string{"Basic dXNlcjpwYXNz"}, Query: []string{"a"}}, "", "", errcode.RequestInvalid},
		{"digest", Input{Authorization: []string{`Digest username="x"`}}, "", "", errcode.TokenMissing},
		{"digest and cookie", Input{Authorization: []string{`Digest username="x"`}, Cookie: []string{"a"}}, "", "", errcode.RequestInvalid},
		{"basic, query and cookie", Input{Authorization: []string{"Basic dXNlcjpwYXNz"}, Query: []string{"a"}, Cookie: []string{"b"}}, "", "", errcode.RequestInvalid},
		{"blank header and query", Input{Authorization: []string{" "}, Query: []string{"abc"}}, "abc", SourceQuery, nil},
		{"bearer prefix of longer scheme", Input{Authorization: []string{"BearerX abc"}}, "", "", errcode.TokenMissing},
		{"empty header", Input{Authorization: []string{""}}, "", "", errcode.TokenMissing},
		{"blank header", Input{Authorization: []string{"  "}}, "", "", errcode.TokenMissing},
		{"scheme only", Input{Authorization: []string{"Bearer"}}, "", "", errcode.RequestInvalid},
		{"scheme and spaces", Input{Authorization: []string{"Bearer   "}}, "", "", errcode.RequestInvalid},
		{"two tokens", Input{Authorization: []string{"Bearer a b"}}, "", "", errcode.RequestInvalid},
		{"tab separator", Input{Authorization: []string{"Bearer\tabc"}}, "", "", errcode.RequestInvalid},
		{"comma list", Input{Authorization: []string{"Bearer a, Basic b"}}, "", "", errcode.RequestInvalid},
		{"illegal char", Input{Authorization: []string{"Bearer a*b"}}, "", "", errcode.RequestInvalid},
		{"quote", Input{Authorization: []string{`Bearer "abc"`}}, "", "", errcode.RequestInvalid},
		{"non-ascii", Input{Authorization: []string{"Bearer abcé"}}, "", "", errcode.RequestInvalid},
		{"NUL", Input{Authorization: []string{"Bearer a\x00b"}}, "", "", errcode.RequestInvalid},
		{"padding in middle", Input{Authorization: []string{"Bearer ab=c"}}, "", "", errcode.RequestInvalid},
		{"padding only", Input{Authorization: []string{"Bearer =="}}, "", "", errcode.RequestInvalid},
		{"empty query value", Input{Query: []string{""}}, "", "", errcode.RequestInvalid},
		{"query with space", Input{Query: []string{"a b"}}, "", "", errcode.RequestInvalid},
		{"empty cookie", Input{Cookie: []string{""}}, "", "", errcode.RequestInvalid},
		{"too long header", Input{Authorization: []string{"Bearer " + long}}, "", "", errcode.TokenMalformed},
		{"too long query", Input{Query: []string{long}}, "", "", errcode.TokenMalformed},
		{"too long cookie", Input{Cookie: []string{long + " x"}}, "", "", errcode.TokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotTok, gotSrc, err := Extract(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var ce *errcode.Error
				if !errors.As(err, &ce) {
					t.Fatalf("err %T is not an *errcode.Error", err)
				}
				if gotTok != "" || gotSrc != "" {
					t.Fatalf("token %q source %q returned with an error", gotTok, gotSrc)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if gotTok != tt.wantToken || gotSrc != tt.wantSource {
				t.Fatalf("got (%q, %q), want (%q, %q)", gotTok, gotSrc, tt.wantToken, tt.wantSource)
			}
		})
	}
}

// The foreign scheme is the more precise diagnosis when it comes with a
// second source, and its log field is cut and quoted.
func TestExtractSchemeField(t *testing.T) {
	_, _, err := Extract(Input{Authorization: []string{"Basic" + strings.Repeat("x", 100) + "\n abc"}, Cookie: []string{"a"}})
	e := errcode.From(err)
	s, _ := e.Field("scheme").(string)
	if e.Code != errcode.RequestInvalid || s == "" || len(s) > maxSchemeLog+2 || strings.ContainsAny(s, "\n") {
		t.Fatalf("got %v fields %v", err, maps.Collect(e.Fields()))
	}
}

// No error field ever carries the token itself.
func TestExtractNeverLogsToken(t *testing.T) {
	secret := "s3cr3tT0ken"
	for _, in := range []Input{
		{Authorization: []string{"Bearer " + secret + " x"}},
		{Authorization: []string{"Bearer " + secret, "Bearer " + secret}},
		{Authorization: []string{"Bearer " + secret}, Query: []string{secret}},
		{Query: []string{secret + "*"}},
	} {
		_, _, err := Extract(in)
		e := errcode.From(err)
		if strings.Contains(e.Error(), secret) {
			t.Errorf("detail leaks the token: %v", e)
		}
		for k, v := range e.Fields() {
			if s, ok := v.(string); ok && strings.Contains(s, secret) {
				t.Errorf("field %s leaks the token", k)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("Bearer "+tok, "", "", false, false)
	f.Add("bearer a b", "x", "", true, false)
	f.Add("Basic dXNlcjpwYXNz", "", "c", false, true)
	f.Add("", "a==", "", true, false)
	f.Fuzz(func(t *testing.T, h, q, c string, useQ, useC bool) {
		in := Input{}
		if h != "" {
			in.Authorization = []string{h}
		}
		if useQ {
			in.Query = []string{q}
		}
		if useC {
			in.Cookie = []string{c}
		}
		token, src, err := Extract(in)
		if err != nil {
			if token != "" || src != "" {
				t.Fatalf("token returned with error %v", err)
			}
			switch errcode.From(err).Code {
			case errcode.TokenMissing, errcode.RequestInvalid, errcode.TokenMalformed:
			default:
				t.Fatalf("unexpected code %v", err)
			}
			return
		}
		if token == "" || len(token) > MaxTokenLen || invalidAt(token) >= 0 {
			t.Fatalf("accepted bad token %q", token)
		}
		switch src {
		case SourceHeader:
			if !strings.Contains(h, token) {
				t.Fatalf("header token %q not in %q", token, h)
			}
		case SourceQuery:
			if token != q {
				t.Fatal("query token altered")
			}
		case SourceCookie:
			if token != c {
				t.Fatal("cookie token altered")
			}
		default:
			t.Fatalf("source %q", src)
		}
	})
}

func ExampleExtract() {
	token, source, err := Extract(Input{Authorization: []string{"Bearer mF_9.B5f-4.1JqM"}})
	fmt.Println(token, source, err)

	_, _, err = Extract(Input{Authorization: []string{"Basic dXNlcjpwYXNz"}})
	fmt.Println(err)
	// Output:
	// mF_9.B5f-4.1JqM header <nil>
	// OAUTH_TOKEN_MISSING: no bearer token: the Authorization header uses the "Basic" scheme
}

func BenchmarkExtract(b *testing.B) {
	in := Input{Authorization: []string{"Bearer " + tok}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Extract(in); err != nil {
			b.Fatal(err)
		}
	}
}
