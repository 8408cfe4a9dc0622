package provider

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

const testJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz"

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "upstream connect error", "upstream connect error"},
		{"html collapsed", "<html>\n\t<body>  Bad\r\nGateway </body></html>", "<html> <body> Bad Gateway </body></html>"},
		{"control chars", "a\x00b\x1b[31mc", "a b [31mc"},
		{"invalid utf8", "ok\xff\xfeok", "ok ok"},
		{"jwt", "token " + testJWT + " rejected", "token [redacted] rejected"},
		{"short jwt", "eyJ0.eyJ1.c2", "[redacted]"},
		{"unsigned jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "[redacted]"},
		{"jwe five parts", "eyJhbGciOiJSU0EtT0FFUCJ9.aGVsbG8td29ybGQtaGVsbG8.aXY.Y2lwaGVy.dGFn", "[redacted].Y2lwaGVy.dGFn"},
		{"long opaque", "session ab12CD34ef56GH78ij90KL ended", "session [redacted] ended"},
		{"hex digest", "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sha [redacted]"},
		{"identifier kept", `{"error":"invalid_client_credentials"}`, `{"error":"invalid_client_credentials"}`},
		{"upper identifier kept", "ERROR_UPSTREAM_CONNECT_FAILURE", "ERROR_UPSTREAM_CONNECT_FAILURE"},
		{"json access_token", `{"access_token":"abc","token_type":"Bearer"}`, `{"access_token":"[redacted]","token_type":"Bearer"}`},
		{"json spaced", `{"refresh_token" : "r1", "id_token":"i"}`, `{"refresh_token" : "[redacted]", "id_token":"[redacted]"}`},
		{"json escaped quote", `{"password":"p\"w","user":"bob"}`, `{"password":"[redacted]","user":"bob"}`},
		{"json unterminated", `{"client_secret":"s3cr`, `{"client_secret":"[redacted]"`},
		{"json case", `{"Password":"hunter2"}`, `{"Password":"[redacted]"}`},
		{"numeric code kept", `{"code":400,"message":"bad"}`, `{"code":400,"message":"bad"}`},
		{"string code redacted", `{"code":"SplxlOBe"}`, `{"code":"[redacted]"}`},
		{"error_code not a code", `{"error_code":"E42"}`, `{"error_code":"E42"}`},
		{"form", "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&client_secret=x", "grant_type=authorization_code&code=[redacted]&client_secret=[redacted]"},
		{"token query", "GET /cb?token=abc&x=1", "GET /cb?token=[redacted]&x=1"},
		{"bearer", "Authorization: Bearer mF_9.B5f-4.1JqM", "Authorization: Bearer [redacted]"},
		{"basic", "Authorization: Basic Z3c6cHc=", "Authorization: Basic [redacted]"},
		{"basic word kept", "Basic authentication required", "Basic authentication required"},
		{"auth param kept", `Bearer realm="api", error="invalid_token"`, `Bearer realm="api", error="invalid_token"`},
		{"host name kept", "no route to auth.eu-west-1.example.com", "no route to auth.eu-west-1.example.com"},
		{"version kept", "nginx/1.25.3", "nginx/1.25.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Excerpt([]byte(tt.in)); got != tt.want {
				t.Errorf("Excerpt(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExcerptTruncates(t *testing.T) {
	got := Excerpt([]byte(strings.Repeat("word ", 1000)))
	if n := utf8.RuneCountInString(got); n != excerptMax+1 || !strings.HasSuffix(got, "…") {
		t.Fatalf("%d runes: %q", n, got)
	}
	// A token at the cut is redacted before truncation, never half-shown.
	got = Excerpt([]byte(strings.Repeat("x", 110) + " " + testJWT))
	if strings.Contains(got, "eyJ") || tokenLike(got) {
		t.Fatalf("token survived truncation: %q", got)
	}
	// A huge body costs a bounded scan.
	if got := Excerpt([]byte(strings.Repeat("é", 1<<20))); utf8.RuneCountInString(got) > excerptMax+1 {
		t.Fatalf("%d runes", utf8.RuneCountInString(got))
	}
}

func FuzzExcerpt(f *testing.F) {
	for _, s := range []string{
		"", testJWT, `{"access_token":"` + testJWT + `"}`, "code=abc&state=xyz",
		"aaaaaaaaaa.bbbbbbbbbb.c", "eyJ\x00hbG.eyJ.x", "Bearer " + testJWT, strings.Repeat("Ab1", 50),
		"eyJ" + strings.Repeat("A", 200) + "." + strings.Repeat("B", 200) + ".C",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := Excerpt(body)
		if tokenLike(got) {
			t.Fatalf("Excerpt(%q) = %q is token-shaped", body, got)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > excerptMax+1 {
			t.Fatalf("Excerpt(%q) = %q: invalid or too long", body, got)
		}
		if strings.ContainsAny(got, "\n\r\x00") {
			t.Fatalf("Excerpt(%q) = %q has control characters", body, got)
		}
	})
}

func ExampleExcerpt() {
	body := []byte(`{"error":"server_error","access_token":"abc","trace":"` + testJWT + `"}`)
	fmt.Println(Excerpt(body))
	// Output: {"error":"server_error","access_token":"[redacted]","trace":"[redacted]"}
}

func BenchmarkExcerpt(b *testing.B) {
	body := []byte(strings.Repeat(`{"error":"server_error","access_token":"`+testJWT+`"} `, 100))
	for b.Loop() {
		Excerpt(body)
	}
}
