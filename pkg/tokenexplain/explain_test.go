package tokenexplain

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func TestParseToken(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, ct, body, authz string
		wantErr               error
		check                 func(*testing.T, *Request)
	}{
		{"code grant, basic", form, "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp%2Fcb", basicAuth("app", "s%3Acret"), nil, func(t *testing.T, r *Request) {
			if r.ClientID != "app" || r.ClientAuth != "client_secret_basic" || r.RedirectURI != "https://app/cb" || r.CodeFingerprint == "" || r.Problem != "" {
				t.Fatalf("%+v", r)
			}
		}},
		{"client credentials, post", form, "grant_type=client_credentials&client_id=svc&client_secret=x&scope=read+write", "", nil, func(t *testing.T, r *Request) {
			if r.ClientAuth != "client_secret_post" || strings.Join(r.Scopes, ",") != "read,write" {
				t.Fatalf("%+v", r)
			}
		}},
		{"duplicate parameter", form, "grant_type=client_credentials&scope=a&scope=b", "", nil, func(t *testing.T, r *Request) {
			if !strings.Contains(r.Problem, `"scope" given 2 times`) {
				t.Fatalf("problem %q", r.Problem)
			}
		}},
		{"two auth methods", form, "grant_type=client_credentials&client_secret=x", basicAuth("app", "y"), nil, func(t *testing.T, r *Request) {
			if !strings.Contains(r.Problem, "both the Authorization header and the body") {
				t.Fatalf("problem %q", r.Problem)
			}
		}},
		{"no grant type", form, "code=x", "", nil, func(t *testing.T, r *Request) {
			if !strings.Contains(r.Problem, "grant_type missing") {
				t.Fatalf("problem %q", r.Problem)
			}
		}},
		{"code grant without code", form, "grant_type=authorization_code", "", nil, func(t *testing.T, r *Request) {
			if !strings.Contains(r.Problem, "code missing") {
				t.Fatalf("problem %q", r.Problem)
			}
		}},
		{"json body", "application/json", `{"grant_type":"x"}`, "", ErrNotOAuth, nil},
		{"bad escape", form, "grant_type=%zz", "", ErrNotOAuth, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseToken("POST", tt.ct, []byte(tt.body), tt.authz)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
	if _, err := ParseToken("GET", form, nil, ""); !errors.Is(err, ErrNotOAuth) {
		t.Fatal("GET is not a token request")
	}
}

// Parse is strict: what it cannot parse as the provider would is
// ErrMalformed (refused with enforce), never "not OAuth".
func TestParseMalformed(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, ct, query, body, authz string
	}{
		{"bad escape in the body", form, "", "grant_type=%zz", ""},
		{"semicolon in the body", form, "", "grant_type=client_credentials;scope=admin", ""},
		{"bad escape in the query", "", "response_type=code&client_id=a&x=%zz", "", ""},
		{"semicolon in the query", "", "response_type=code;client_id=a", "", ""},
		{"truncated escape", "", "response_type=code&client_id=a%2", "", ""},
		{"multipart body", "multipart/form-data; boundary=x", "", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--x--\r\n", ""},
		{"json body", "application/json", "", `{"grant_type":"password"}`, ""},
		{"text body", "text/plain", "", "grant_type=password", ""},
		{"body without content type", "", "", "grant_type=password", ""},
		{"unparseable content type", "application/x-www-form-urlencoded; =", "", "grant_type=password", ""},
		{"basic not base64", form, "", "grant_type=client_credentials", "Basic !!!"},
		{"basic two spaces", form, "", "grant_type=client_credentials", "Basic  " + base64.StdEncoding.EncodeToString([]byte("app:x"))},
		{"basic without colon", form, "", "grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("app"))},
		{"basic bad escape", form, "", "grant_type=client_credentials", basicAuth("a%zz", "x")},
		{"basic empty client id", form, "", "grant_type=client_credentials", basicAuth("", "x")},
		{"basic scheme only", form, "", "grant_type=client_credentials", "Basic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.ct, tt.query, []byte(tt.body), tt.authz)
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrNotOAuth) || r != nil {
				t.Fatalf("got %+v, %v; want ErrMalformed", r, err)
			}
		})
	}
}

func TestParseKinds(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, ct, query, body string
		kind                  Kind
		problem               string
	}{
		{"nothing", "", "", "", Other, ""},
		{"query without response_type", "", "a=1", "", Other, ""},
		{"authorization GET", "", "response_type=code&client_id=app", "", Authorization, ""},
		{"authorization POST form", form, "", "response_type=code&client_id=app", Authorization, ""},
		{"authorization split over body and query", form, "client_id=app", "response_type=code", Authorization, ""},
		{"authorization parameter in body and query", form, "client_id=app", "response_type=code&client_id=evil", Authorization, `"client_id" given 2 times`},
		{"token request", form, "", "grant_type=client_credentials&client_id=app", Token, ""},
		{"empty form body", form, "", "", Other, ""},
		{"authorization GET with a stray form content type", form, "response_type=code&client_id=app", "", Authorization, ""},
		{"empty form body, token parameters in the query", form, "grant_type=password", "", Token, `"grant_type" in the query string`},
		{"token parameter in the query", form, "scope=admin", "grant_type=client_credentials&client_id=app", Token, `"scope" in the query string`},
		{"token request in the query only", "", "grant_type=password&client_id=app", "", Token, `"grant_type" in the query string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.ct, tt.query, []byte(tt.body), "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.kind == Other {
				if r != nil {
					t.Fatalf("got %+v, want nil", r)
				}
				return
			}
			if r == nil || r.Kind != tt.kind || !strings.Contains(r.Problem, tt.problem) || (tt.problem == "") != (r.Problem == "") {
				t.Fatalf("got %+v, want kind %d problem %q", r, tt.kind, tt.problem)
			}
		})
	}
}

// FuzzParse: whatever a Go provider (net/http's ParseMultipartForm, as
// fosite calls it) reads from a request, Parse either refuses as malformed
// or reads the same grant_type and client_id: the gateway never checks a
// request the provider reads differently.
func FuzzParse(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=app", "")
	f.Add("multipart/form-data; boundary=x", "", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\npassword\r\n--x--\r\n", "")
	f.Add("", "response_type=code&client_id=a;b", "", "")
	f.Add("application/x-www-form-urlencoded", "grant_type=x", "grant_type=%zz", basicAuth("app", "s"))
	f.Fuzz(func(t *testing.T, ct, query, body, authz string) {
		r, err := Parse(ct, query, []byte(body), authz)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || r != nil {
				t.Fatalf("error %v with %+v", err, r)
			}
			return
		}
		hr, herr := http.NewRequest("POST", "http://provider.test/oauth2/token?"+query, strings.NewReader(body))
		if herr != nil {
			return
		}
		if ct != "" {
			hr.Header.Set("Content-Type", ct)
		}
		if authz != "" {
			hr.Header.Set("Authorization", authz)
		}
		if perr := hr.ParseMultipartForm(1 << 20); perr != nil && perr != http.ErrNotMultipart {
			t.Fatalf("Parse accepted what net/http refuses (%v): %+v", perr, r)
		}
		if len(hr.PostForm) > 0 && (r == nil || r.Kind != Token && r.Kind != Authorization) {
			t.Fatalf("net/http reads a form %v, Parse sees no request", hr.PostForm)
		}
		if r != nil && r.Kind == Token && r.Problem == "" {
			if g := hr.PostForm.Get("grant_type"); g != r.GrantType {
				t.Fatalf("grant_type: net/http %q, Parse %q", g, r.GrantType)
			}
			if _, _, ok := hr.BasicAuth(); !ok && hr.PostForm.Get("client_id") != r.ClientID {
				t.Fatalf("client_id: net/http %q, Parse %q", hr.PostForm.Get("client_id"), r.ClientID)
			}
		}
	})
}

func TestParseAuthorization(t *testing.T) {
	r, err := ParseAuthorization("GET", "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp%2Fcb&scope=openid+read&state=s")
	if err != nil || r.Kind != Authorization || r.RedirectURI != "https://app/cb" || len(r.Scopes) != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseAuthorization("GET", "a=b"); !errors.Is(err, ErrNotOAuth) {
		t.Fatal("no response_type must not parse")
	}
	r, _ = ParseAuthorization("GET", "response_type=code&redirect_uri=a&redirect_uri=b")
	if !strings.Contains(r.Problem, "client_id missing") || !strings.Contains(r.Problem, `"redirect_uri" given 2 times`) {
		t.Fatalf("problem %q", r.Problem)
	}
}

func TestPolicyCheck(t *testing.T) {
	p := NewPolicy([]string{"app"}, []string{"https://app/cb"}, []string{"read"}, []string{"authorization_code"})
	ok := &Request{Kind: Token, GrantType: "authorization_code", ClientID: "app", RedirectURI: "https://app/cb", Scopes: []string{"read"}}
	if e := p.Check(ok); e != nil {
		t.Fatal(e)
	}
	tests := []struct {
		mut  func(r *Request)
		want errcode.Code
	}{
		{func(r *Request) { r.Problem = "x" }, errcode.TokenRequestInvalid},
		{func(r *Request) { r.GrantType = "password" }, errcode.UnsupportedGrantType},
		{func(r *Request) { r.ClientID = "other" }, errcode.ClientAuthFailed},
		{func(r *Request) { r.RedirectURI = "https://app/cb/" }, errcode.RedirectURIMismatch},
		{func(r *Request) { r.RedirectURI = "https://APP/cb" }, errcode.RedirectURIMismatch},
		{func(r *Request) { r.Scopes = []string{"read", "admin"} }, errcode.InvalidScope},
	}
	for _, tt := range tests {
		r := *ok
		tt.mut(&r)
		if e := p.Check(&r); e == nil || e.Code != tt.want {
			t.Errorf("%+v: got %v, want %s", r, e, tt.want)
		}
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

var jsonNoStore = hdr("Content-Type", "application/json;charset=UTF-8", "Cache-Control", "no-store")

func TestClassifyToken(t *testing.T) {
	codeReq := &Request{Kind: Token, GrantType: "authorization_code", ClientID: "app", RedirectURI: "https://evil/cb", CodeFingerprint: "abcd1234"}
	allowCb := NewPolicy(nil, []string{"https://app/cb"}, nil, nil)
	tests := []struct {
		name     string
		r        *Request
		p        *Policy
		status   int
		h        http.Header
		body     string
		want     errcode.Code // "" = valid
		unusable bool
		detail   string
	}{
		{"valid", nil, nil, 200, jsonNoStore, `{"access_token":"at","token_type":"Bearer","expires_in":3600,"scope":"read"}`, "", false, ""},
		{"html page", nil, nil, 200, hdr("Content-Type", "text/html"), "<html>login</html>", errcode.ProviderInvalidResp, true, `content type "text/html"`},
		{"not json", nil, nil, 200, jsonNoStore, "access_token=at&token_type=bearer", errcode.ProviderInvalidResp, true, "not a JSON object"},
		{"no access_token", nil, nil, 200, jsonNoStore, `{"token_type":"Bearer"}`, errcode.ProviderInvalidResp, true, "no access_token"},
		{"access_token number", nil, nil, 200, jsonNoStore, `{"access_token":1,"token_type":"Bearer"}`, errcode.ProviderInvalidResp, true, "not a string"},
		{"no token_type", nil, nil, 200, jsonNoStore, `{"access_token":"a"}`, errcode.ProviderInvalidResp, true, "no token_type"},
		{"expires_in string", nil, nil, 200, jsonNoStore, `{"access_token":"a","token_type":"x","expires_in":"3600"}`, errcode.ProviderInvalidResp, true, "expires_in"},
		{"no no-store", nil, nil, 200, hdr("Content-Type", "application/json"), `{"access_token":"a","token_type":"x"}`, errcode.ProviderInvalidResp, false, "no-store"},
		{"proxy 502 page", nil, nil, 502, hdr("Content-Type", "text/html"), "<h1>502 Bad Gateway</h1>", errcode.ProviderError, false, "502"},
		{"redirect", nil, nil, 302, hdr("Location", "https://idp/login?code=secret"), "", errcode.ProviderInvalidResp, true, "https://idp/login"},
		{"invalid_client", &Request{Kind: Token, ClientID: "app", ClientAuth: "client_secret_basic"}, nil, 401, jsonNoStore, `{"error":"invalid_client","error_description":"Client authentication failed"}`, errcode.ClientAuthFailed, false, "invalid_client"},
		{"invalid_grant", codeReq, nil, 400, jsonNoStore, `{"error":"invalid_grant","error_description":"code expired"}`, errcode.InvalidGrant, false, "code expired"},
		{"invalid_grant, redirect not allowed", codeReq, allowCb, 400, jsonNoStore, `{"error":"invalid_grant"}`, errcode.RedirectURIMismatch, false, "not in allowed_redirect_uris"},
		{"invalid_grant naming redirect_uri", nil, nil, 400, jsonNoStore, `{"error":"invalid_grant","error_description":"The 'redirect_uri' parameter does not match"}`, errcode.RedirectURIMismatch, false, "names the redirect URI"},
		{"invalid_scope", nil, nil, 400, jsonNoStore, `{"error":"invalid_scope"}`, errcode.InvalidScope, false, ""},
		// Hydra's exact answer to grant_type=password: boilerplate naming redirect_uri, but the request had none.
		{"hydra unsupported grant boilerplate", &Request{Kind: Token, GrantType: "password", ClientID: "app"}, nil, 400, jsonNoStore,
			`{"error":"invalid_request","error_description":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed. Make sure that the various parameters are correct, be aware of case sensitivity and trim your parameters. Make sure that the client you are using has exactly whitelisted the redirect_uri you specified."}`,
			errcode.TokenRequestInvalid, false, "invalid_request"},
		{"unauthorized_client", nil, nil, 400, jsonNoStore, `{"error":"unauthorized_client"}`, errcode.UnauthorizedClient, false, ""},
		{"unsupported_grant_type", nil, nil, 400, jsonNoStore, `{"error":"unsupported_grant_type"}`, errcode.UnsupportedGrantType, false, ""},
		{"extension error", nil, nil, 400, jsonNoStore, `{"error":"consent_required"}`, errcode.TokenRequestInvalid, false, "consent_required"},
		{"error not a string", nil, nil, 400, jsonNoStore, `{"error":42}`, errcode.ProviderInvalidResp, true, `no string "error"`},
		{"4xx html", nil, nil, 400, hdr("Content-Type", "text/html"), "<p>Bad</p>", errcode.ProviderInvalidResp, true, "not an RFC 6749 §5.2 JSON error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Classify(tt.r, tt.p, tt.status, tt.h, []byte(tt.body))
			if tt.want == "" {
				if v.Err != nil {
					t.Fatalf("valid answer explained as %v", v.Err)
				}
				return
			}
			if v.Err == nil || v.Err.Code != tt.want || v.Unusable != tt.unusable || !strings.Contains(v.Err.Detail, tt.detail) {
				t.Fatalf("got %+v (unusable %v), want %s %q unusable %v", v.Err, v.Unusable, tt.want, tt.detail, tt.unusable)
			}
			if strings.Contains(v.Err.Error(), "secret") {
				t.Fatal("a code from the Location leaked into the detail")
			}
		})
	}
}

func TestClassifyAuthorization(t *testing.T) {
	r := &Request{Kind: Authorization, ClientID: "app", RedirectURI: "https://evil/cb"}
	p := NewPolicy(nil, []string{"https://app/cb"}, nil, nil)
	v := Classify(r, nil, 302, hdr("Location", "https://app/cb?error=invalid_scope&error_description=nope&state=x"), nil)
	if v.Err == nil || v.Err.Code != errcode.InvalidScope {
		t.Fatalf("%+v", v.Err)
	}
	v = Classify(r, nil, 302, hdr("Location", "https://app/cb?code=abc&state=x"), nil)
	if v.Err != nil {
		t.Fatalf("a code redirect is success: %v", v.Err)
	}
	v = Classify(r, p, 400, hdr("Content-Type", "text/html"), []byte("<p>redirect_uri mismatch</p>"))
	if v.Err == nil || v.Err.Code != errcode.RedirectURIMismatch {
		t.Fatalf("%+v", v.Err)
	}
	v = Classify(r, nil, 303, hdr("Location", "http://127.0.0.1:4444/oauth2/fallbacks/error?error=invalid_request&error_description=The+%27redirect_uri%27+parameter+does+not+match"), nil)
	if v.Err == nil || v.Err.Code != errcode.RedirectURIMismatch {
		t.Fatalf("hydra-style error redirect: %+v", v.Err)
	}
}

func TestErrorBody(t *testing.T) {
	e := errcode.New(errcode.RedirectURIMismatch, "").With("endpoint", "authorization")
	if got := string(errorBody(e.Code.Entry(), e)); !strings.Contains(got, `"error":"invalid_request"`) || !strings.Contains(got, `"code":"OAUTH_REDIRECT_URI_MISMATCH"`) {
		t.Fatal(got)
	}
	e = errcode.New(errcode.ProviderInvalidResp, "")
	if got := string(errorBody(e.Code.Entry(), e)); !strings.Contains(got, `"error":"server_error"`) {
		t.Fatal(got)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{AllowedRedirectURIs: []string{"/cb"}}, "allowed_redirect_uris[0]"},
		{Config{AllowedRedirectURIs: []string{"https://a/cb#x"}}, "fragment"},
		{Config{AllowedScopes: []string{""}}, "allowed_scopes[0]"},
		{Config{LogLevel: ptr("x")}, "log_level"},
	} {
		if _, err := tt.c.Compile(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v", tt.c, err)
		}
	}
}

// FuzzClassify: any provider answer is explained without panicking, and a
// verdict never marks a success with Unusable.
func FuzzClassify(f *testing.F) {
	f.Add(200, "application/json", "no-store", `{"access_token":"a","token_type":"b"}`, "grant_type=authorization_code&code=x&redirect_uri=https%3A%2F%2Fa")
	f.Add(400, "application/json", "", `{"error":"invalid_grant","error_description":"redirect_uri"}`, "grant_type=x")
	f.Add(302, "", "", "", "")
	f.Fuzz(func(t *testing.T, status int, ct, cc, body, form string) {
		if status < 100 || status > 599 {
			return
		}
		r, _ := ParseToken("POST", "application/x-www-form-urlencoded", []byte(form), "")
		if ar, err := ParseAuthorization("GET", form); err == nil && ar.Kind != Authorization {
			t.Fatal("authorization request of the wrong kind")
		}
		v := Classify(r, NewPolicy(nil, []string{"https://a"}, nil, nil), status, hdr("Content-Type", ct, "Cache-Control", cc, "Location", body), []byte(body))
		if v.Err == nil && v.Unusable {
			t.Fatal("unusable without an error")
		}
	})
}

func ptr[T any](v T) *T { return &v }
