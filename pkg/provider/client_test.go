package provider

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// faultServer answers each path with one fault.
func faultServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var redirectTargetHits atomic.Int32
	mux := http.NewServeMux()
	jsonOK := func(ct string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			io.WriteString(w, `{"ok":true}`)
		}
	}
	mux.HandleFunc("/ok", jsonOK("application/json"))
	mux.HandleFunc("/ok-charset", jsonOK("application/json; charset=utf-8"))
	mux.HandleFunc("/ok-jwkset", jsonOK("application/jwk-set+json"))
	mux.HandleFunc("/ok-problem", jsonOK("application/problem+json"))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, `{"keys":`)
		w.(http.Flusher).Flush()
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><body>Please log in</body></html>")
	})
	mux.HandleFunc("/no-ct", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // suppress sniffing
		io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys": [nope]}`)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
	})
	mux.HandleFunc("/truncated-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys": [{"kty":"RSA"`)
	})
	mux.HandleFunc("/content-length-lie", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, `{"keys": [`)
		// The handler returns: net/http closes the connection short.
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"keys\":[{\"kty\"")
		buf.Flush()
		conn.Close()
	})
	mux.HandleFunc("/hijack-no-answer", func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	mux.HandleFunc("/502", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<h1>502 Bad Gateway</h1> upstream said access_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	})
	mux.HandleFunc("/oversized", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(2<<20))
		w.Write(make([]byte, 2<<20))
	})
	mux.HandleFunc("/oversized-chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`["`))
		w.(http.Flusher).Flush() // no Content-Length: chunked
		chunk := []byte(strings.Repeat("a", 64<<10))
		for i := 0; i < 40; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		w.Write([]byte(`"]`))
	})
	mux.HandleFunc("/invalid-client", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Basic realm="as"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
	})
	mux.HandleFunc("/invalid-grant", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
	})
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/redirect-target?session=s3cr3t", http.StatusFound)
	})
	mux.HandleFunc("/redirect-target", func(w http.ResponseWriter, r *http.Request) {
		redirectTargetHits.Add(1)
		jsonOK("application/json")(w, r)
	})
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad method", http.StatusMethodNotAllowed)
			return
		}
		if u, p, ok := r.BasicAuth(); !ok || u != "gw" || p != "pw" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"active":%t}`, r.PostFormValue("token") == "good")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &redirectTargetHits
}

func TestGetJSONClassification(t *testing.T) {
	srv, redirectHits := faultServer(t)
	// The timeout cases use a 100 ms client; the others a generous one, so
	// that a loaded machine (-race) does not turn them into timeouts.
	fast, medium, normal := New(100*time.Millisecond), New(500*time.Millisecond), New(5*time.Second)

	tests := []struct {
		path       string
		want       errcode.Code // "" = success
		wantDetail string
	}{
		{"/ok", "", ""},
		{"/ok-charset", "", ""},
		{"/ok-jwkset", "", ""},
		{"/ok-problem", "", ""},
		{"/slow", errcode.ProviderTimeout, "no answer within 100ms"},
		{"/slow-body", errcode.ProviderTimeout, "no answer within 500ms (body cut after 8 bytes)"},
		{"/html", errcode.ProviderInvalidResp, "content type text/html, want application/json"},
		{"/no-ct", errcode.ProviderInvalidResp, "no content type, want application/json"},
		{"/garbage", errcode.ProviderInvalidResp, "not JSON at offset 11"},
		{"/empty", errcode.ProviderInvalidResp, "empty body"},
		{"/truncated-json", errcode.ProviderInvalidResp, "truncated JSON: body ends at offset 22"},
		{"/content-length-lie", errcode.ProviderInvalidResp, "body truncated after 10 bytes"},
		{"/hijack", errcode.ProviderInvalidResp, "body truncated after 15 bytes"},
		{"/hijack-no-answer", errcode.ProviderUnreachable, "connection closed before an answer"},
		{"/502", errcode.ProviderError, "status 502 Bad Gateway: <h1>502 Bad Gateway</h1> upstream said access_token=[redacted]"},
		{"/oversized", errcode.ProviderInvalidResp, "body exceeds 1 MiB (Content-Length 2097152)"},
		{"/oversized-chunked", errcode.ProviderInvalidResp, "body exceeds 1 MiB"},
		{"/invalid-client", errcode.ProviderClientAuthFail, "status 401 invalid_client"},
		{"/invalid-grant", errcode.ProviderInvalidResp, "unexpected status 400 Bad Request"},
		{"/404", errcode.ProviderInvalidResp, "unexpected status 404 Not Found"},
		{"/redirect", errcode.ProviderInvalidResp, "redirect to " + srv.URL + "/redirect-target not followed (status 302)"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := normal
			switch tt.path {
			case "/slow":
				c = fast
			case "/slow-body":
				c = medium // headers must arrive before the timeout
			}
			var into map[string]any
			resp, err := c.GetJSON(context.Background(), srv.URL+tt.path, &into)
			if tt.want == "" {
				if err != nil || into["ok"] != true || resp.Status != 200 {
					t.Fatalf("got %v %v %+v", into, err, resp)
				}
				return
			}
			assertCode(t, err, tt.want, tt.wantDetail)
			if e := errcode.From(err); e.Field("url") != srv.URL+tt.path {
				t.Errorf("url field = %v", e.Field("url"))
			}
		})
	}
	if n := redirectHits.Load(); n != 0 {
		t.Errorf("redirect target was fetched %d times", n)
	}
}

func assertCode(t *testing.T, err error, want errcode.Code, detail string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %s", err, want)
	}
	var e *errcode.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is not an *errcode.Error", err)
	}
	if !strings.Contains(e.Detail, detail) {
		t.Fatalf("detail %q does not contain %q", e.Detail, detail)
	}
	if strings.Contains(err.Error(), "eyJzdWIi") {
		t.Fatalf("a token leaked into the error: %v", err)
	}
}

func TestStatusReturnedWithError(t *testing.T) {
	srv, _ := faultServer(t)
	resp, err := New(5*time.Second).GetJSON(context.Background(), srv.URL+"/404", nil)
	if err == nil || resp == nil || resp.Status != 404 {
		t.Fatalf("resp %+v, err %v: callers need the status to branch on", resp, err)
	}
	if e := errcode.From(err); e.Field("status") != 404 {
		t.Errorf("status field = %v", e.Field("status"))
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = New(5*time.Second).GetJSON(context.Background(), "http://"+addr+"/jwks", nil)
	assertCode(t, err, errcode.ProviderUnreachable, "connection refused")
}

func TestTLSCertificateFailure(t *testing.T) {
	// httptest's certificate is self-signed: verification, which is always
	// on, must refuse it.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request passed an unverified TLS handshake")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	_, err := New(5*time.Second).GetJSON(context.Background(), srv.URL, nil)
	assertCode(t, err, errcode.ProviderUnreachable, "tls: x509: certificate")
}

func TestPlainHTTPOnHTTPSURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := New(5*time.Second).GetJSON(context.Background(), strings.Replace(srv.URL, "http:", "https:", 1), nil)
	assertCode(t, err, errcode.ProviderUnreachable, "tls: ")
}

func TestContextDeadline(t *testing.T) {
	srv, _ := faultServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := New(5*time.Second).GetJSON(ctx, srv.URL+"/slow", nil)
	assertCode(t, err, errcode.ProviderTimeout, "deadline exceeded")
}

func TestTransportErrorClassification(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "https://idp.example/jwks", Err: err} }
	tests := []struct {
		name   string
		err    error
		want   errcode.Code
		detail string
	}{
		{"dns not found", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "idp.invalid", IsNotFound: true}}),
			errcode.ProviderUnreachable, "dns: no such host idp.invalid"},
		{"dns server failure", wrap(&net.DNSError{Err: "server misbehaving", Name: "idp.example", IsTemporary: true}),
			errcode.ProviderUnreachable, "dns: server misbehaving (host idp.example)"},
		{"deadline", wrap(context.DeadlineExceeded), errcode.ProviderTimeout, "deadline exceeded"},
		{"cancelled", wrap(context.Canceled), errcode.ProviderTimeout, "cancelled"},
		{"other", wrap(errors.New("proxyconnect tcp: boom")), errcode.ProviderUnreachable, "proxyconnect tcp: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCode(t, transportError(tt.err, time.Second), tt.want, tt.detail)
		})
	}
}

func TestPostForm(t *testing.T) {
	srv, _ := faultServer(t)
	c := New(5 * time.Second)
	form := url.Values{"token": {"good"}}

	good := http.Header{"Authorization": {"Basic " + basic("gw", "pw")}}
	var out struct {
		Active bool `json:"active"`
	}
	if _, err := c.PostForm(context.Background(), srv.URL+"/introspect", form, good, &out); err != nil || !out.Active {
		t.Fatalf("active=%v err=%v", out.Active, err)
	}

	bad := http.Header{"Authorization": {"Basic " + basic("gw", "wrong")}}
	_, err := c.PostForm(context.Background(), srv.URL+"/introspect", form, bad, &out)
	assertCode(t, err, errcode.ProviderClientAuthFail, "invalid_client")

	_, err = c.PostForm(context.Background(), srv.URL+"/502", form, good, &out)
	assertCode(t, err, errcode.ProviderError, "status 502")
}

func TestBadURLIsConfig(t *testing.T) {
	c := New(5 * time.Second)
	for _, u := range []string{"ftp://idp.example/jwks", "/relative", "http://%zz"} {
		_, err := c.GetJSON(context.Background(), u, nil)
		if !errors.Is(err, errcode.ConfigInvalid) {
			t.Errorf("%s: %v, want CONFIG_INVALID", u, err)
		}
	}
}

func TestWithMaxBody(t *testing.T) {
	srv, _ := faultServer(t)
	c := New(5 * time.Second).WithMaxBody(4)
	_, err := c.GetJSON(context.Background(), srv.URL+"/ok", nil)
	assertCode(t, err, errcode.ProviderInvalidResp, "body exceeds 4 bytes")
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("https://u:p@idp.example/jwks?key=secret#f"); got != "https://idp.example/jwks" {
		t.Fatal(got)
	}
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestWithRootCAs(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	base := New(5 * time.Second)
	c, err := base.WithRootCAs(pemCert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetJSON(context.Background(), srv.URL, nil); err != nil {
		t.Fatalf("trusted private CA refused: %v", err)
	}
	if _, err := base.GetJSON(context.Background(), srv.URL, nil); !errors.Is(err, errcode.ProviderUnreachable) {
		t.Fatalf("the original client must keep the system roots: %v", err)
	}
	if c.ConfigKey() == base.ConfigKey() {
		t.Fatal("config keys must differ by trusted CAs")
	}
	if _, err := base.WithRootCAs([]byte("not pem")); !errors.Is(err, errcode.ConfigInvalid) {
		t.Fatal(err)
	}
}
