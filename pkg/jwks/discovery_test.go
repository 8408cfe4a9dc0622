package jwks

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

// discoveryServer serves documents by path; the issuer it advertises is
// srv.URL + issuerPath unless the document overrides it.
type discoveryServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]func(base string) (string, any) // path → content type, body
	seen []string
}

func newDiscoveryServer(t *testing.T) *discoveryServer {
	d := &discoveryServer{docs: map[string]func(string) (string, any){}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.seen = append(d.seen, r.URL.Path)
		doc, ok := d.docs[r.URL.Path]
		d.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct, body := doc("http://" + r.Host)
		w.Header().Set("Content-Type", ct)
		switch b := body.(type) {
		case string:
			w.Write([]byte(b))
		default:
			json.NewEncoder(w).Encode(b)
		}
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *discoveryServer) serve(path string, doc func(base string) (string, any)) {
	d.mu.Lock()
	d.docs[path] = doc
	d.mu.Unlock()
}

func metadataDoc(issuerPath string, extra map[string]any) func(string) (string, any) {
	return func(base string) (string, any) {
		m := map[string]any{
			"issuer":                 base + issuerPath,
			"jwks_uri":               base + issuerPath + "/keys",
			"token_endpoint":         base + issuerPath + "/token",
			"introspection_endpoint": base + issuerPath + "/introspect",
			"authorization_endpoint": base + issuerPath + "/authorize",
			"scopes_supported":       []string{"openid"},
		}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return "application/json", m
	}
}

func TestDiscoverOIDC(t *testing.T) {
	d := newDiscoveryServer(t)
	d.serve("/realms/main/.well-known/openid-configuration", metadataDoc("/realms/main", nil))
	issuer := d.URL + "/realms/main"
	md, err := Discover(context.Background(), provider.New(5*time.Second), issuer)
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != issuer || md.JWKSURI != issuer+"/keys" || md.IntrospectionEndpoint != issuer+"/introspect" ||
		md.TokenEndpoint != issuer+"/token" || md.AuthorizationEndpoint != issuer+"/authorize" ||
		md.Source != issuer+"/.well-known/openid-configuration" || md.ScopesSupported[0] != "openid" {
		t.Fatalf("%+v", md)
	}
}

func TestDiscoverFallsBackToRFC8414(t *testing.T) {
	d := newDiscoveryServer(t)
	// RFC 8414 §3.1: the well-known segment goes between host and path.
	d.serve("/.well-known/oauth-authorization-server/tenant", metadataDoc("/tenant", nil))
	issuer := d.URL + "/tenant"
	md, err := Discover(context.Background(), provider.New(5*time.Second), issuer)
	if err != nil {
		t.Fatal(err)
	}
	if md.JWKSURI != issuer+"/keys" || md.Source != d.URL+"/.well-known/oauth-authorization-server/tenant" {
		t.Fatalf("%+v", md)
	}
	if want := []string{"/tenant/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant"}; strings.Join(d.seen, " ") != strings.Join(want, " ") {
		t.Fatalf("requests %v, want %v", d.seen, want)
	}
}

func TestDiscoverFailures(t *testing.T) {
	const oidc = "/.well-known/openid-configuration"
	tests := []struct {
		name   string
		path   string
		doc    func(string) (string, any)
		want   errcode.Code
		detail string
	}{
		{"issuer mismatch", oidc, metadataDoc("/other", nil), errcode.ProviderInvalidResp, `discovery issuer "http://127.0.0.1`},
		{"trailing slash mismatch", oidc, metadataDoc("/", nil), errcode.ProviderInvalidResp, "does not match configured"},
		{"missing jwks_uri", oidc, metadataDoc("", map[string]any{"jwks_uri": nil}), errcode.ProviderInvalidResp, `no "jwks_uri"`},
		{"relative jwks_uri", oidc, metadataDoc("", map[string]any{"jwks_uri": "/keys"}), errcode.ProviderInvalidResp, "is not an absolute http(s) URL"},
		{"jwks_uri scheme", oidc, metadataDoc("", map[string]any{"jwks_uri": "file:///etc/passwd"}), errcode.ProviderInvalidResp, "is not an absolute http(s) URL"},
		{"html", oidc, func(string) (string, any) { return "text/html", "<html>Sign in</html>" }, errcode.ProviderInvalidResp, "content type text/html"},
		{"issuer wrong type", oidc, metadataDoc("", map[string]any{"issuer": 42}), errcode.ProviderInvalidResp, `member "issuer" is a JSON number`},
		{"both 404", "/nothing", metadataDoc("", nil), errcode.ProviderInvalidResp, "404 page not found; fallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDiscoveryServer(t)
			d.serve(tt.path, tt.doc)
			_, err := Discover(context.Background(), provider.New(5*time.Second), d.URL)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("got %v, want %s containing %q", err, tt.want, tt.detail)
			}
		})
	}
}

func TestDiscoverUnreachableNoFallback(t *testing.T) {
	d := newDiscoveryServer(t)
	d.Close()
	_, err := Discover(context.Background(), provider.New(5*time.Second), d.URL)
	if !errors.Is(err, errcode.ProviderUnreachable) || strings.Contains(err.Error(), "fallback") {
		t.Fatal(err)
	}
}

func TestWellKnownURLs(t *testing.T) {
	tests := []struct{ issuer, oidc, oauth string }{
		{"https://h", "https://h/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server"},
		{"https://h/", "https://h/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server"},
		{"https://h/tenant", "https://h/tenant/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server/tenant"},
		{"https://h:8443/a/b/", "https://h:8443/a/b/.well-known/openid-configuration", "https://h:8443/.well-known/oauth-authorization-server/a/b"},
	}
	for _, tt := range tests {
		oidc, oauth, err := WellKnownURLs(tt.issuer)
		if err != nil || oidc != tt.oidc || oauth != tt.oauth {
			t.Errorf("%s: %s %s %v", tt.issuer, oidc, oauth, err)
		}
	}
	for _, bad := range []string{"", "h/tenant", "ftp://h", "https://h/?x=1", "https://h/#f", "https://u:p@h"} {
		if _, _, err := WellKnownURLs(bad); !errors.Is(err, errcode.ConfigInvalid) {
			t.Errorf("%q: %v, want CONFIG_INVALID", bad, err)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"ok", `{"issuer":"https://i","jwks_uri":"https://i/k"}`, ""},
		{"not object", `[1]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"no issuer", `{"jwks_uri":"https://i/k"}`, `no "issuer"`},
		{"list wrong type", `{"issuer":"https://i","scopes_supported":"openid"}`, `"scopes_supported" is a JSON string`},
		{"fragment", `{"issuer":"https://i","token_endpoint":"https://i/t#x"}`, "has a fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := ParseMetadata([]byte(tt.doc))
			if tt.want == "" {
				if err != nil || md.Issuer != "https://i" {
					t.Fatal(md, err)
				}
				return
			}
			if !errors.Is(err, errcode.ProviderInvalidResp) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDiscoverHTTPSDowngrade(t *testing.T) {
	// An https issuer whose document points the keys at plain http would
	// let a network attacker swap the keys.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"issuer": "https://" + r.Host, "jwks_uri": "http://" + r.Host + "/keys"})
	}))
	defer srv.Close()
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := provider.New(5 * time.Second).WithRootCAs(pemCert)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Discover(context.Background(), c, srv.URL)
	if !errors.Is(err, errcode.ProviderInvalidResp) || !strings.Contains(err.Error(), "is not https while the issuer is") {
		t.Fatalf("got %v", err)
	}
}
