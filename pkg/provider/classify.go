package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// The classification, one code per party that has to act:
//
//	connection refused, DNS, TLS handshake/certificate  → OAUTH_PROVIDER_UNREACHABLE
//	client timeout, context deadline or cancellation    → OAUTH_PROVIDER_TIMEOUT
//	5xx                                                  → OAUTH_PROVIDER_ERROR (status + excerpt)
//	400/401 with "error":"invalid_client"                → OAUTH_PROVIDER_CLIENT_AUTH_FAILED (RFC 6749 §5.2)
//	3xx (never followed), other non-2xx, wrong content
//	type, not JSON, truncated, oversized                 → OAUTH_PROVIDER_INVALID_RESPONSE

// transportError classifies a failure of http.Client.Do: the provider gave
// no HTTP answer at all.
func transportError(err error, timeout time.Duration) *errcode.Error {
	if e := timeoutError(err, timeout); e != nil {
		return e
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return wrapDetail(errcode.ProviderUnreachable, err, "dns: no such host %s", dnsErr.Name)
		}
		return wrapDetail(errcode.ProviderUnreachable, err, "dns: %s (host %s)", dnsErr.Err, dnsErr.Name)
	}
	if d, ok := tlsDetail(err); ok {
		return wrapDetail(errcode.ProviderUnreachable, err, "tls: %s", d)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return wrapDetail(errcode.ProviderUnreachable, err, "connection refused")
	case errors.Is(err, syscall.ECONNRESET):
		return wrapDetail(errcode.ProviderUnreachable, err, "connection reset")
	case errors.Is(err, syscall.EHOSTUNREACH):
		return wrapDetail(errcode.ProviderUnreachable, err, "host unreachable")
	case errors.Is(err, syscall.ENETUNREACH):
		return wrapDetail(errcode.ProviderUnreachable, err, "network unreachable")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return wrapDetail(errcode.ProviderUnreachable, err, "connection closed before an answer")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return wrapDetail(errcode.ProviderUnreachable, err, "%s", ue.Err)
	}
	return wrapDetail(errcode.ProviderUnreachable, err, "%s", err)
}

// timeoutError recognises the client timeout, a context deadline and a
// cancelled context; nil otherwise.
func timeoutError(err error, timeout time.Duration) *errcode.Error {
	switch {
	case errors.Is(err, context.Canceled):
		return wrapDetail(errcode.ProviderTimeout, err, "request cancelled before the provider answered")
	case errors.Is(err, context.DeadlineExceeded):
		// http.Client's own timeout also wraps DeadlineExceeded; the
		// message distinguishes it from the caller's deadline.
		if strings.Contains(err.Error(), "Client.Timeout") {
			return wrapDetail(errcode.ProviderTimeout, err, "no answer within %s", timeout)
		}
		return wrapDetail(errcode.ProviderTimeout, err, "request deadline exceeded before the provider answered")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return wrapDetail(errcode.ProviderTimeout, err, "no answer within %s", timeout)
	}
	return nil
}

// tlsDetail reports a TLS handshake or certificate failure.
func tlsDetail(err error) (string, bool) {
	var (
		cve   *tls.CertificateVerificationError
		ua    x509.UnknownAuthorityError
		he    x509.HostnameError
		ci    x509.CertificateInvalidError
		rhe   tls.RecordHeaderError
		alert tls.AlertError
		ech   *tls.ECHRejectionError
	)
	switch {
	case errors.As(err, &cve):
		return cve.Err.Error(), true
	case errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err.Error(), true
		}
		return err.Error(), true
	case errors.As(err, &rhe):
		return "server did not answer with TLS (plain HTTP on an https URL?)", true
	case errors.As(err, &alert):
		return "handshake failed: " + alert.Error(), true
	case errors.As(err, &ech):
		return ech.Error(), true
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "server did not answer with TLS (plain HTTP on an https URL?)", true
	}
	if s := err.Error(); strings.Contains(s, "tls: ") {
		return s[strings.Index(s, "tls: ")+len("tls: "):], true
	}
	return "", false
}

// bodyReadError classifies a failure while reading a body after the
// headers arrived.
func bodyReadError(err error, n int, timeout time.Duration) *errcode.Error {
	if e := timeoutError(err, timeout); e != nil {
		e.Detail += fmt.Sprintf(" (body cut after %d bytes)", n)
		return e
	}
	return wrapDetail(errcode.ProviderInvalidResp, err, "body truncated after %d bytes: %s", n, err)
}

// classifyStatus turns a non-2xx answer into an error; nil for 2xx.
func classifyStatus(r *Response, reqURL *url.URL) *errcode.Error {
	st := r.Status
	switch {
	case st >= 200 && st < 300:
		return nil
	case st >= 300 && st < 400:
		loc := r.Header.Get("Location")
		if u, err := reqURL.Parse(loc); err == nil && loc != "" {
			loc = redactURL(u.String())
		} else if loc == "" {
			loc = "(no Location)"
		} else {
			loc = "(unparsable Location)"
		}
		return errcode.New(errcode.ProviderInvalidResp, "redirect to %s not followed (status %d)", loc, st).
			With("status", st).With("location", loc)
	case st >= 500:
		ex := Excerpt(r.Body)
		return errcode.New(errcode.ProviderError, "status %d %s: %s", st, http.StatusText(st), orEmpty(ex)).
			With("status", st).With("body_excerpt", ex)
	}
	ex := Excerpt(r.Body)
	if (st == http.StatusUnauthorized || st == http.StatusBadRequest) && oauthError(r.Body) == "invalid_client" {
		// RFC 6749 §5.2 / RFC 7662 §2.3: the provider refused the
		// gateway's own client credentials.
		return errcode.New(errcode.ProviderClientAuthFail, "provider refused the gateway's client credentials (status %d invalid_client): %s", st, orEmpty(ex)).
			With("status", st).With("body_excerpt", ex)
	}
	e := errcode.New(errcode.ProviderInvalidResp, "unexpected status %d %s: %s", st, http.StatusText(st), orEmpty(ex)).
		With("status", st).With("body_excerpt", ex)
	if wa := r.Header.Get("WWW-Authenticate"); wa != "" {
		e = e.With("www_authenticate", Excerpt([]byte(wa)))
	}
	return e
}

// oauthError is the RFC 6749 §5.2 "error" member of a JSON body, or "".
func oauthError(body []byte) string {
	var v struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	s, _ := v.Error.(string)
	return s
}

// checkJSON checks a 2xx answer: a JSON media type (application/json or
// any application/*+json such as RFC 7517 §8.5's application/jwk-set+json),
// a non-empty body that parses, and decodes it into into when non-nil.
func checkJSON(r *Response, into any) *errcode.Error {
	mt, _, err := mime.ParseMediaType(r.ContentType)
	switch {
	case r.ContentType == "":
		return errcode.New(errcode.ProviderInvalidResp, "no content type, want application/json").With("body_excerpt", Excerpt(r.Body))
	case err != nil:
		return errcode.New(errcode.ProviderInvalidResp, "content type %q unparsable, want application/json", Excerpt([]byte(r.ContentType)))
	case !isJSONMediaType(mt):
		return errcode.New(errcode.ProviderInvalidResp, "content type %s, want application/json", mt).
			With("content_type", mt).With("body_excerpt", Excerpt(r.Body))
	}
	if len(strings.TrimSpace(string(r.Body))) == 0 {
		return errcode.New(errcode.ProviderInvalidResp, "empty body, want JSON")
	}
	if into == nil {
		var v any
		into = &v
	}
	if err := json.Unmarshal(r.Body, into); err != nil {
		return jsonError(err, r.Body)
	}
	return nil
}

func isJSONMediaType(mt string) bool {
	if mt == "application/json" {
		return true
	}
	sub, ok := strings.CutPrefix(mt, "application/")
	return ok && strings.HasSuffix(sub, "+json") && len(sub) > len("+json")
}

// jsonError says where a body stops being JSON.
func jsonError(err error, body []byte) *errcode.Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se) && se.Offset >= int64(len(body)) || errors.Is(err, io.ErrUnexpectedEOF):
		return wrapDetail(errcode.ProviderInvalidResp, err, "truncated JSON: body ends at offset %d", len(body)).
			With("body_excerpt", Excerpt(body))
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		return wrapDetail(errcode.ProviderInvalidResp, err, "not JSON at offset %d: %s", max(se.Offset-1, 0), se).
			With("body_excerpt", Excerpt(body))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return wrapDetail(errcode.ProviderInvalidResp, err, "JSON member %s is a %s, want %s", field, te.Value, te.Type)
	}
	return wrapDetail(errcode.ProviderInvalidResp, err, "invalid JSON: %s", err)
}

// wrapDetail is errcode.Wrap with a detail of our own: the cause stays
// reachable through errors.Is/As, the detail says what happened in words.
func wrapDetail(c errcode.Code, err error, format string, args ...any) *errcode.Error {
	return errcode.Wrapf(c, err, format, args...)
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty body)"
	}
	return s
}
