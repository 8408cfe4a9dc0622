package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

var enforceCfg = map[string]any{
	"enforce":               true,
	"allowed_client_ids":    []any{"app"},
	"allowed_redirect_uris": []any{"https://app.example.test/cb"},
	"allowed_scopes":        []any{"read", "openid"},
	"allowed_grant_types":   []any{"authorization_code", "client_credentials"},
}

func multipartRequest(t *testing.T, fields ...string) *kongwire.Request {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return &kongwire.Request{Method: "POST", Path: "/oauth2/token", Headers: http.Header{"Content-Type": {w.FormDataContentType()}}, Body: b.Bytes()}
}

func rawRequest(method, path, query, ct, body string, h ...string) *kongwire.Request {
	r := &kongwire.Request{Method: method, Path: path, RawQuery: query, Headers: http.Header{}, Body: []byte(body)}
	if ct != "" {
		r.Headers.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(h); i += 2 {
		r.Headers.Add(h[i], h[i+1])
	}
	return r
}

// refusedInvalidRequest: RFC 6749 §5.2 body, invalid_request, the code.
func refusedInvalidRequest(t *testing.T, res *kongwire.Result) {
	t.Helper()
	kongwire.CheckRefusal(t, res, "authkit-oauth-explain", 400, "OAUTH_TOKEN_REQUEST_INVALID")
	logged(t, res, "OAUTH_TOKEN_REQUEST_INVALID")
	var body map[string]string
	if json.Unmarshal(res.Body, &body) != nil || body["error"] != "invalid_request" || body["error_description"] == "" {
		t.Fatalf("want an RFC 6749 §5.2 invalid_request body, got %s", res.Body)
	}
}

// Issue 11, item 3: with enforce, a request the plugin cannot parse is
// refused (invalid_request), never passed to the provider unchecked.
func TestEnforceRefusesWhatItCannotParse(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	pad := "&pad=" + strings.Repeat("p", 32<<10) // spooled by nginx (> client_body_buffer_size)
	huge := "&pad=" + strings.Repeat("p", 2<<20) // beyond what the plugin reads
	s := startPlugin(t)
	inst := s.StartInstance(t, enforceCfg)
	for _, tt := range []struct {
		name string
		req  func(t *testing.T) *kongwire.Request
	}{
		{"multipart token request (Hydra parses it)", func(t *testing.T) *kongwire.Request {
			return multipartRequest(t, "grant_type", "password", "client_id", "intruder", "scope", "admin")
		}},
		{"urlencoded body with a semicolon", func(*testing.T) *kongwire.Request {
			return tokenRequest("grant_type=client_credentials&scope=admin;x=1", "intruder", "s3cret")
		}},
		{"urlencoded body with a bad escape", func(*testing.T) *kongwire.Request {
			return tokenRequest("grant_type=password&x=%zz", "intruder", "s3cret")
		}},
		{"authorization request with a bad escape", func(*testing.T) *kongwire.Request {
			return rawRequest("GET", "/oauth2/auth", "response_type=code&client_id=intruder&redirect_uri=https%3A%2F%2Fevil.test%2Fcb&state=%zz", "", "")
		}},
		{"authorization request with a semicolon", func(*testing.T) *kongwire.Request {
			return rawRequest("GET", "/oauth2/auth", "response_type=code&client_id=app;client_id=intruder", "", "")
		}},
		{"json body", func(*testing.T) *kongwire.Request {
			return rawRequest("POST", "/oauth2/token", "", "application/json", `{"grant_type":"password","client_id":"intruder"}`)
		}},
		{"body without a content type", func(*testing.T) *kongwire.Request {
			return rawRequest("POST", "/oauth2/token", "", "", "grant_type=password&client_id=intruder")
		}},
		{"two content types", func(*testing.T) *kongwire.Request {
			return rawRequest("POST", "/oauth2/token", "", form, "grant_type=password", "Content-Type", "multipart/form-data; boundary=x")
		}},
		{"body larger than the plugin reads", func(*testing.T) *kongwire.Request {
			return tokenRequest("grant_type=password&client_id=intruder"+huge, "", "")
		}},
		{"malformed Basic client credentials", func(*testing.T) *kongwire.Request {
			return rawRequest("POST", "/oauth2/token", "", form, "grant_type=client_credentials&client_id=app", "Authorization", "Basic !!not-base64")
		}},
		{"a header that is not UTF-8 (go-pdk cannot read any header then)", func(*testing.T) *kongwire.Request {
			r := tokenRequest("grant_type=password", "intruder", "s3cret")
			r.Headers.Set("X-Latin1", "caf\xe9")
			return r
		}},
		{"token parameters in the query of a token request", func(*testing.T) *kongwire.Request {
			r := tokenRequest("grant_type=client_credentials", "app", "s3cret")
			r.RawQuery = "grant_type=password&scope=admin"
			return r
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refusedInvalidRequest(t, inst.Access(t, tt.req(t)))
		})
	}

	t.Run("two Authorization headers", func(t *testing.T) {
		// nginx answers 400 itself: the plugin never sees them
		// (docs/kong-behaviour.md).
		r := tokenRequest("grant_type=client_credentials", "app", "s3cret")
		r.Headers.Add("Authorization", "Basic aW50cnVkZXI6eA==")
		if res := inst.Access(t, r); !res.RejectedByNginx || res.Status != 400 || len(res.Calls) != 0 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("spooled body the plugin cannot open", func(t *testing.T) {
		unreachable := startPlugin(t)
		unreachable.BodyFileUnreachable = true
		refusedInvalidRequest(t, unreachable.StartInstance(t, enforceCfg).Access(t, tokenRequest("grant_type=password&client_id=intruder"+pad, "", "")))
	})

	// A spooled body is read and checked like any other.
	refusedRFC := func(t *testing.T, res *kongwire.Result, code string) {
		t.Helper()
		kongwire.CheckRefusal(t, res, "authkit-oauth-explain", 401, code)
	}
	refusedRFC(t, inst.Access(t, tokenRequest("grant_type=client_credentials"+pad, "intruder", "s3cret")), "OAUTH_CLIENT_AUTH_FAILED")
	for _, ok := range []*kongwire.Request{
		tokenRequest("grant_type=client_credentials&scope=read"+pad, "app", "s3cret"),
		tokenRequest("grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcb", "app", "s3cret"),
		rawRequest("GET", "/oauth2/auth", "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcb&scope=openid&state=xyz", "", ""),
		rawRequest("GET", "/.well-known/openid-configuration", "", "", ""),
	} {
		if res := inst.Access(t, ok); res.Exited || res.Err != nil {
			t.Fatalf("allowed request %s %s?%s refused: %d %s", ok.Method, ok.Path, ok.RawQuery, res.Status, res.Body)
		}
	}
	// An authorization request sent as a POST form (OpenID Connect Core
	// §3.1.2.1) is checked as one.
	res := inst.Access(t, rawRequest("POST", "/oauth2/auth", "", form, "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fevil.test%2Fcb"))
	kongwire.CheckRefusal(t, res, "authkit-oauth-explain", 400, "OAUTH_REDIRECT_URI_MISMATCH")

	// Round trips with enforce (README, Performance).
	okRes := inst.Access(t, tokenRequest("grant_type=client_credentials&scope=read", "app", "s3cret"))
	badRes := inst.Access(t, multipartRequest(t, "grant_type", "password"))
	read := []string{"kong.request.get_headers", "kong.request.get_raw_query", "kong.request.get_raw_body"}
	kongwire.CheckTrips(t, "enforce, allowed", okRes, 1, 2, read...)
	kongwire.CheckTrips(t, "enforce, refused", badRes, 1, 2, append(read, "kong.log.notice", "kong.log.set_serialize_value", "kong.response.exit")...)

	// Without enforce nothing changes: no PDK call in access.
	lax := s.StartInstance(t, map[string]any{"allowed_client_ids": []any{"app"}})
	if res := lax.Access(t, multipartRequest(t, "grant_type", "password")); res.Exited || res.RoundTrips() != 0 {
		t.Fatalf("without enforce: exited=%v calls %v", res.Exited, res.Calls)
	}
}
