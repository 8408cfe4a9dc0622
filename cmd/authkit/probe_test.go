package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type probeProvider struct {
	srv        *httptest.Server
	issuer     string
	jwks       string
	jwksCT     string
	introspect func(w http.ResponseWriter, r *http.Request)
}

func newProbeProvider(t *testing.T) *probeProvider {
	p := &probeProvider{jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, jwksCT: "application/json"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := p.issuer
		if iss == "" {
			iss = p.srv.URL
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"introspection_endpoint":%q}`, iss, p.srv.URL+"/jwks", p.srv.URL+"/introspect")
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", p.jwksCT)
		fmt.Fprint(w, p.jwks)
	})
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		if p.introspect != nil {
			p.introspect(w, r)
			return
		}
		if u, pw, ok := r.BasicAuth(); !ok || u != "gw" || pw != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"active":false}`)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func probe(t *testing.T, secret string, args ...string) (int, string) {
	t.Helper()
	t.Setenv("AUTHKIT_CLIENT_SECRET", secret)
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"probe", "--timeout", "2s"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String() + errb.String()
}

func TestProbeHealthyProvider(t *testing.T) {
	p := newProbeProvider(t)
	code, out := probe(t, "s3cret", "--issuer", p.srv.URL, "--client-id", "gw")
	if code != 0 || strings.Count(out, "ok    ") != 3 || !strings.Contains(out, "k1 OKP") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestProbeProblems(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(p *probeProvider)
		secret string
		want   []string
	}{
		{"issuer mismatch", func(p *probeProvider) { p.issuer = "https://other.example" }, "s3cret", []string{"FAIL  discovery", "OAUTH_PROVIDER_INVALID_RESPONSE", "other.example"}},
		{"jwks is html", func(p *probeProvider) { p.jwksCT = "text/html"; p.jwks = "<html>" }, "s3cret", []string{"FAIL  jwks", "OAUTH_PROVIDER_INVALID_RESPONSE", "text/html"}},
		{"jwks garbage", func(p *probeProvider) { p.jwks = `{"keys":[{"kty":"RSA","n":"!"}]}` }, "s3cret", []string{"FAIL  jwks", "OAUTH_PROVIDER_INVALID_RESPONSE"}},
		{"wrong client secret", nil, "wrong", []string{"FAIL  introspection", "OAUTH_PROVIDER_CLIENT_AUTH_FAILED", "fix: Check `introspection_client_id`"}},
		{"active not a boolean", func(p *probeProvider) {
			p.introspect = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"active":"false"}`)
			}
		}, "s3cret", []string{"FAIL  introspection", "not a JSON boolean"}},
		{"answers active for anything", func(p *probeProvider) {
			p.introspect = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"active":true}`)
			}
		}, "s3cret", []string{"FAIL  introspection", "does not introspect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProbeProvider(t)
			if tt.setup != nil {
				tt.setup(p)
			}
			code, out := probe(t, tt.secret, "--issuer", p.srv.URL, "--client-id", "gw")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "s3cret") {
				t.Fatal("the client secret leaked into the output")
			}
		})
	}
}

func TestProbeUnreachableAndJSON(t *testing.T) {
	p := newProbeProvider(t)
	url := p.srv.URL
	p.srv.Close()
	code, out := probe(t, "", "--issuer", url, "--json")
	var checks []probeCheck
	if code != 1 || json.Unmarshal([]byte(out[:strings.LastIndex(out, "]")+1]), &checks) != nil || len(checks) != 1 || checks[0].Code != "OAUTH_PROVIDER_UNREACHABLE" {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if code, _ := probe(t, ""); code != 2 {
		t.Fatalf("no target: exit %d, want 2", code)
	}
}
