package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// StripQueryParam removes every occurrence of name from a raw query string
// (hide_credentials), leaving the other parameters byte for byte as the
// client sent them.
func StripQueryParam(raw, name string) string {
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil && dk == name {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// CookieValues returns every value of cookie name in the Cookie headers.
func CookieValues(headers []string, name string) []string {
	var out []string
	for _, h := range headers {
		for _, c := range (&http.Request{Header: http.Header{"Cookie": {h}}}).Cookies() {
			if c.Name == name {
				out = append(out, c.Value)
			}
		}
	}
	return out
}

// StripCookie removes cookie name from Cookie headers, joined as one
// header value ("" when nothing is left, which removes the header).
func StripCookie(headers []string, name string) string {
	var kept []string
	for _, h := range headers {
		for _, part := range strings.Split(h, ";") {
			k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == name || strings.TrimSpace(part) == "" {
				continue
			}
			kept = append(kept, strings.TrimSpace(part))
		}
	}
	return strings.Join(kept, "; ")
}
