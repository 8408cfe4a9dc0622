package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// echoed is what the echo upstream saw: the request as Kong forwarded it.
type echoed struct {
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	RawQuery string              `json:"raw_query"`
	Headers  map[string][]string `json:"headers"` // canonical names
	Body     string              `json:"body"`
}

// has reports whether the upstream got the header at all (present and
// empty counts as present: that is the bug class it exists for).
func (e *echoed) has(name string) bool {
	_, ok := e.Headers[http.CanonicalHeaderKey(name)]
	return ok
}

func (e *echoed) get(name string) string {
	if v := e.Headers[http.CanonicalHeaderKey(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// upstream is the echo service behind every test route.
type upstream struct {
	srv   *httptest.Server
	calls atomic.Int64
}

// newUpstream answers every request with 200 and the request it got as
// JSON (echoed). A request header X-Echo-Multi makes it answer two
// X-Multi headers; path /html answers an HTML page (a provider that is not
// OAuth); X-Echo-Status sets the status.
func newUpstream(t testing.TB) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/html" || r.URL.Path == "/oauth2-html/token" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, "<html><body>Please log in</body></html>")
			return
		}
		h := map[string][]string{}
		for k, v := range r.Header {
			h[k] = v
		}
		if r.Host != "" {
			h["Host"] = []string{r.Host}
		}
		js, _ := json.Marshal(echoed{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Headers: h, Body: string(body)})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "1")
		if r.Header.Get("X-Echo-Multi") != "" {
			w.Header().Add("X-Multi", "m1")
			w.Header().Add("X-Multi", "m2")
			w.Header().Set("Cache-Control", "no-store")
		}
		status := 200
		if s, err := strconv.Atoi(r.Header.Get("X-Echo-Status")); err == nil {
			status = s
		}
		w.WriteHeader(status)
		_, _ = w.Write(js)
	}))
	t.Cleanup(u.srv.Close)
	return u
}
