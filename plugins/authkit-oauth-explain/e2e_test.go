package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/tokenexplain"
)

func startPlugin(t *testing.T) *kongwire.Server {
	return kongwire.Start(t, kongwire.Build(t, "authkit-oauth-explain"))
}

func tokenRequest(form string, clientID, secret string) *kongwire.Request {
	r := &kongwire.Request{Method: "POST", Path: "/oauth2/token", Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form)}
	if clientID != "" {
		r.Headers.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(clientID+":"+secret)))
	}
	return r
}

func answer(status int, ct, body string, extra ...string) *kongwire.Upstream {
	h := http.Header{"Content-Type": {ct}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return &kongwire.Upstream{Status: status, Headers: h, Body: []byte(body)}
}

const goodToken = `{"access_token":"eyJhbGciOi.secret-at.sig","token_type":"bearer","expires_in":3599,"scope":"read"}`

// explained asserts the provider's answer reached the client unchanged,
// named by X-Authkit-Code, one log line and the serialize value.
func explained(t *testing.T, res *kongwire.Result, up *kongwire.Upstream, code string) {
	t.Helper()
	if res.Err != nil || res.Exited {
		t.Fatalf("the provider's answer must pass through: exited=%v %v %s", res.Exited, res.Err, res.Body)
	}
	if res.Status != up.Status || string(res.Body) != string(up.Body) {
		t.Fatalf("answer changed: %d %s", res.Status, res.Body)
	}
	if got := res.Header("X-Authkit-Code"); got != code {
		t.Fatalf("X-Authkit-Code %q, want %q (logs %v)", got, code, res.Logs)
	}
	logged(t, res, code)
}

func logged(t *testing.T, res *kongwire.Result, code string) {
	t.Helper()
	line := kongwire.CheckRecord(t, res, "authkit-oauth-explain", code)
	for _, secret := range []string{"s3cret", "the-code", "secret-at", "svc-secret", "web-secret"} {
		if strings.Contains(line, secret) {
			t.Fatalf("a secret leaked into the log: %s", line)
		}
	}
}

func TestSchemaAsKongSeesIt(t *testing.T) {
	info := kongwire.Dump(t, kongwire.Build(t, "authkit-oauth-explain"))
	kongwire.CheckSchema(t, info, kongwire.JSONTags(tokenexplain.Config{}))
	if got := strings.Join(info.Plugins[0].Phases, ","); got != "access,response" {
		t.Fatalf("phases %s", got)
	}
}

func TestExplainProviderAnswers(t *testing.T) {
	s := startPlugin(t)
	inst := s.StartInstance(t, map[string]any{"allowed_redirect_uris": []any{"https://app.example.test/cb"}})
	code := "grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcb"

	t.Run("valid exchange passes untouched", func(t *testing.T) {
		req := tokenRequest(code, "app", "s3cret")
		if acc := inst.Access(t, req); acc.RoundTrips() != 0 || acc.Exited {
			t.Fatalf("without enforce, access must make no PDK call: %v", acc.Calls)
		}
		up := answer(200, "application/json", goodToken, "Cache-Control", "no-store")
		res := inst.Response(t, req, up)
		if res.Header("X-Authkit-Code") != "" || len(res.Logs) != 0 || string(res.Body) != goodToken {
			t.Fatalf("valid answer touched: %v %v", res.Headers, res.Logs)
		}
	})
	cases := []struct {
		name string
		req  *kongwire.Request
		up   *kongwire.Upstream
		code string
	}{
		{"wrong client secret", tokenRequest(code, "app", "s3cret"), answer(401, "application/json", `{"error":"invalid_client","error_description":"Client authentication failed"}`), "OAUTH_CLIENT_AUTH_FAILED"},
		{"scope not allowed", tokenRequest("grant_type=client_credentials&scope=admin", "app", "s3cret"), answer(400, "application/json", `{"error":"invalid_scope","error_description":"The requested scope is invalid"}`), "OAUTH_INVALID_SCOPE"},
		{"code expired or reused", tokenRequest(code, "app", "s3cret"), answer(400, "application/json", `{"error":"invalid_grant","error_description":"The authorization code has already been used"}`), "OAUTH_INVALID_GRANT"},
		{"redirect uri named by the provider", tokenRequest(code, "app", "s3cret"), answer(400, "application/json", `{"error":"invalid_grant","error_description":"The 'redirect_uri' from this request does not match the one from the authorize request."}`), "OAUTH_REDIRECT_URI_MISMATCH"},
		{"redirect uri not registered", tokenRequest("grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fevil.test%2Fcb", "app", "s3cret"), answer(400, "application/json", `{"error":"invalid_grant"}`), "OAUTH_REDIRECT_URI_MISMATCH"},
		{"unsupported grant", tokenRequest("grant_type=password", "app", "s3cret"), answer(400, "application/json", `{"error":"unsupported_grant_type"}`), "OAUTH_UNSUPPORTED_GRANT_TYPE"},
		{"unauthorized client", tokenRequest("grant_type=client_credentials", "app", "s3cret"), answer(400, "application/json", `{"error":"unauthorized_client"}`), "OAUTH_UNAUTHORIZED_CLIENT"},
		{"proxy 502 page", tokenRequest(code, "app", "s3cret"), answer(502, "text/html", "<html><h1>502 Bad Gateway</h1></html>"), "OAUTH_PROVIDER_ERROR"},
		{"html login page", tokenRequest(code, "app", "s3cret"), answer(200, "text/html", "<html><form>Sign in</form></html>"), "OAUTH_PROVIDER_INVALID_RESPONSE"},
		{"json without access_token", tokenRequest(code, "app", "s3cret"), answer(200, "application/json", `{"token_type":"bearer"}`, "Cache-Control", "no-store"), "OAUTH_PROVIDER_INVALID_RESPONSE"},
		{"not json", tokenRequest(code, "app", "s3cret"), answer(200, "application/json", `access_token=x&token_type=bearer`), "OAUTH_PROVIDER_INVALID_RESPONSE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst.Access(t, c.req)
			explained(t, inst.Response(t, c.req, c.up), c.up, c.code)
		})
	}
}

func TestRewriteInvalidResponses(t *testing.T) {
	s := startPlugin(t)
	inst := s.StartInstance(t, map[string]any{"rewrite_invalid_responses": true})
	req := tokenRequest("grant_type=client_credentials", "app", "s3cret")
	res := inst.Response(t, req, answer(200, "text/html", "<html>oops</html>"))
	if !res.Exited || res.Status != 502 || res.Header("X-Authkit-Code") != "OAUTH_PROVIDER_INVALID_RESPONSE" || res.Header("Cache-Control") != "no-store" {
		t.Fatalf("rewrite: %d %v %s", res.Status, res.Headers, res.Body)
	}
	var body map[string]string
	if json.Unmarshal(res.Body, &body) != nil || body["error"] != "server_error" || body["code"] != "OAUTH_PROVIDER_INVALID_RESPONSE" || body["error_description"] == "" {
		t.Fatalf("body %s", res.Body)
	}
	logged(t, res, "OAUTH_PROVIDER_INVALID_RESPONSE")
	// A valid OAuth error answer is never rewritten.
	up := answer(401, "application/json", `{"error":"invalid_client"}`)
	explained(t, inst.Response(t, req, up), up, "OAUTH_CLIENT_AUTH_FAILED")
}

func TestEnforce(t *testing.T) {
	s := startPlugin(t)
	inst := s.StartInstance(t, map[string]any{
		"enforce":               true,
		"allowed_client_ids":    []any{"app"},
		"allowed_redirect_uris": []any{"https://app.example.test/cb"},
		"allowed_scopes":        []any{"read", "openid"},
		"allowed_grant_types":   []any{"authorization_code", "client_credentials"},
	})
	refusedRFC := func(t *testing.T, res *kongwire.Result, status int, oauthErr, code string) {
		t.Helper()
		var body map[string]string
		kongwire.CheckRefusal(t, res, "authkit-oauth-explain", status, code)
		logged(t, res, code)
		if json.Unmarshal(res.Body, &body) != nil || body["error"] != oauthErr {
			t.Fatalf("want RFC 6749 error %s, got %s", oauthErr, res.Body)
		}
	}
	res := inst.Access(t, tokenRequest("grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fevil.test%2Fcb", "app", "s3cret"))
	refusedRFC(t, res, 400, "invalid_grant", "OAUTH_REDIRECT_URI_MISMATCH")

	res = inst.Access(t, tokenRequest("grant_type=client_credentials", "intruder", "s3cret"))
	refusedRFC(t, res, 401, "invalid_client", "OAUTH_CLIENT_AUTH_FAILED")
	if res.Header("WWW-Authenticate") == "" {
		t.Fatal("RFC 6749 §5.2: a client that used Basic gets a matching challenge")
	}
	refusedRFC(t, inst.Access(t, tokenRequest("grant_type=client_credentials&scope=admin", "app", "s3cret")), 400, "invalid_scope", "OAUTH_INVALID_SCOPE")
	refusedRFC(t, inst.Access(t, tokenRequest("grant_type=password", "app", "s3cret")), 400, "unsupported_grant_type", "OAUTH_UNSUPPORTED_GRANT_TYPE")
	refusedRFC(t, inst.Access(t, tokenRequest("grant_type=client_credentials&client_secret=x", "app", "s3cret")), 400, "invalid_request", "OAUTH_TOKEN_REQUEST_INVALID")

	// Authorization request with a bad redirect URI: a direct 400, never a redirect to it.
	authz := &kongwire.Request{Method: "GET", Path: "/oauth2/auth", RawQuery: "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fevil.test%2Fcb&state=s", Headers: http.Header{}}
	res = inst.Access(t, authz)
	refusedRFC(t, res, 400, "invalid_request", "OAUTH_REDIRECT_URI_MISMATCH")
	if res.Header("Location") != "" {
		t.Fatal("RFC 6749 §4.1.2.1: must not redirect to an invalid redirect URI")
	}
	ok := tokenRequest("grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcb", "app", "s3cret")
	if res := inst.Access(t, ok); res.Exited {
		t.Fatalf("allowed request refused: %s", res.Body)
	}
}

func TestConfigInvalidFailsClosed(t *testing.T) {
	s := startPlugin(t)
	res := s.StartInstance(t, map[string]any{"allowed_redirect_uris": []any{"/relative"}}).Access(t, tokenRequest("grant_type=client_credentials", "app", "x"))
	if !res.Exited || res.Status != 500 || !strings.Contains(string(res.Body), "CONFIG_INVALID") {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
}

// TestResponseRoundTrips pins the response phase's PDK calls for a token
// request: the provider's status, headers (kong.response.get_headers: the
// service's own get_headers is empty with buffered proxying) and body, and
// the client's request headers, query and form body, all in one batch. An
// explained answer adds the X-Authkit-Code header, the log line and the
// serialize value, deferred: no extra round trip.
func TestResponseRoundTrips(t *testing.T) {
	inst := startPlugin(t).StartInstance(t, nil)
	read := []string{"kong.service.response.get_status", "kong.response.get_headers", "kong.service.response.get_raw_body",
		"kong.request.get_headers", "kong.request.get_raw_query", "kong.request.get_raw_body"}
	req := tokenRequest("grant_type=client_credentials&scope=read", "app", "s3cret")
	ok := inst.Response(t, req, answer(200, "application/json", goodToken, "Cache-Control", "no-store"))
	kongwire.CheckTrips(t, "valid answer", ok, 1, 2, read...)
	bad := inst.Response(t, tokenRequest("grant_type=client_credentials&scope=read", "app", "s3cret"),
		answer(401, "application/json", `{"error":"invalid_client"}`))
	want := append(read, "kong.response.set_header", "kong.log.notice", "kong.log.set_serialize_value")
	kongwire.CheckTrips(t, "explained answer", bad, 1, 2, want...)
	// The log line names what the request was (the explanation is
	// decorated with the request's facts, on a copy of the error).
	if line := kongwire.CheckRecord(t, bad, "authkit-oauth-explain", "OAUTH_CLIENT_AUTH_FAILED"); !strings.Contains(line, `"endpoint":"token"`) || !strings.Contains(line, `"client_auth":"client_secret_basic"`) {
		t.Errorf("log line lacks the request's facts: %s", line)
	}
}
