// Package provider talks to an OAuth authorization server (discovery, JWKS,
// RFC 7662 introspection) and treats every answer as untrusted input: bodies
// are capped, redirects are refused, TLS is always verified, and every
// failure becomes an *errcode.Error whose code says who has to act
// (OAUTH_PROVIDER_UNREACHABLE, _TIMEOUT, _ERROR, _INVALID_RESPONSE,
// _CLIENT_AUTH_FAILED) and whose detail tells the operator exactly what the
// provider did.
package provider

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

const (
	// DefaultTimeout bounds a whole exchange (connect, TLS, headers, body)
	// when New is given a non-positive timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBody caps every body read from a provider: 1 MiB. Key sets,
	// discovery documents and introspection answers are a few KiB; anything
	// bigger is a misconfigured URL or an attempt to exhaust memory.
	DefaultMaxBody int64 = 1 << 20
	// userAgent identifies the gateway in the provider's access logs.
	userAgent = "kong-authkit"
)

// Response is a provider answer. GetJSON and PostForm return it together
// with the error when the provider answered at all (even with a failure
// status), so callers such as discovery can branch on Status.
type Response struct {
	Status      int
	ContentType string
	Header      http.Header
	// Body is at most MaxBody bytes; on a size or read failure it holds
	// what was read.
	Body []byte
}

// Client is an HTTP client for OAuth providers. It is safe for concurrent
// use; build one per configuration and share it.
type Client struct {
	hc      *http.Client
	timeout time.Duration
	maxBody int64
	// roots fingerprints the trusted CAs ("" = system roots).
	roots string
}

// New returns a client whose exchanges are bounded by timeout (≤ 0 means
// DefaultTimeout), that never follows redirects, always verifies TLS
// certificates (TLS 1.2 at least, RFC 7662 §4 and RFC 8414 §6 require TLS
// with server authentication) and reads at most DefaultMaxBody bytes.
func New(timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{hc: newHTTPClient(timeout, nil), timeout: timeout, maxBody: DefaultMaxBody}
}

func newHTTPClient(timeout time.Duration, roots *x509.CertPool) *http.Client {
	// Our own transport, not http.DefaultTransport: another package
	// mutating the default (e.g. InsecureSkipVerify in a test helper) must
	// not weaken ours. There is deliberately no switch to skip verification.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	tr.MaxIdleConnsPerHost = 4
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect is reported, not followed: a JWKS or discovery URL that
		// redirects is misconfigured (often to a login page), and following
		// it would let whoever controls the target feed us keys (RFC 8725
		// §3.10 names the risk of fetching where we are told to).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// WithRootCAs returns a copy of c that trusts the PEM-encoded CA
// certificates in pem instead of the system roots, for providers behind a
// private CA. Verification stays on; an empty or certificate-less pem is
// CONFIG_INVALID.
func (c *Client) WithRootCAs(pem []byte) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errcode.New(errcode.ConfigInvalid, "no PEM certificate found in the CA bundle")
	}
	sum := sha256.Sum256(pem)
	cp := *c
	cp.hc = newHTTPClient(c.timeout, pool)
	cp.roots = hex.EncodeToString(sum[:8])
	return &cp, nil
}

// ConfigKey identifies what the client's settings are (timeout, body limit,
// trusted CAs), so that caches of provider answers can be shared between
// clients built alike, e.g. across plugin instances.
func (c *Client) ConfigKey() string {
	return fmt.Sprintf("timeout=%s max_body=%d roots=%s", c.timeout, c.maxBody, c.roots)
}

// WithMaxBody returns a copy of c that reads at most n bytes per body
// (n ≤ 0 means DefaultMaxBody). The copy shares c's connection pool.
func (c *Client) WithMaxBody(n int64) *Client {
	if n <= 0 {
		n = DefaultMaxBody
	}
	cp := *c
	cp.maxBody = n
	return &cp
}

// CloseIdleConnections closes the client's idle keep-alive connections
// (the compiled config that built it was released). A request made after
// it dials again.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Timeout is the bound on one exchange.
func (c *Client) Timeout() time.Duration { return c.timeout }

// MaxBody is the cap on a body, in bytes.
func (c *Client) MaxBody() int64 { return c.maxBody }

// GetJSON fetches url and decodes its JSON body into into (nil: only check
// that the body is JSON; the bytes are in Response.Body). Errors are
// *errcode.Error values classified as described in classify.go.
func (c *Client) GetJSON(ctx context.Context, url string, into any) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		// The parse error quotes the URL, which may carry credentials.
		return nil, wrapDetail(errcode.ConfigInvalid, err, "provider URL %s cannot be used", redactURL(url))
	}
	return c.do(req, into)
}

// PostForm posts form as application/x-www-form-urlencoded (RFC 7662 §2.1
// introspection, RFC 6749 §4.4 token requests) with the extra header (e.g.
// Authorization for client_secret_basic) and decodes the JSON answer into
// into. It classifies failures exactly like GetJSON; a 400/401 answer with
// "error":"invalid_client" is OAUTH_PROVIDER_CLIENT_AUTH_FAILED.
func (c *Client) PostForm(ctx context.Context, url string, form url.Values, header http.Header, into any) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(form.Encode()))
	if err != nil {
		// The parse error quotes the URL, which may carry credentials.
		return nil, wrapDetail(errcode.ConfigInvalid, err, "provider URL %s cannot be used", redactURL(url))
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, into)
}

func (c *Client) do(req *http.Request, into any) (*Response, error) {
	if s := req.URL.Scheme; (s != "https" && s != "http") || req.URL.Host == "" {
		return nil, errcode.New(errcode.ConfigInvalid, "provider URL %s is not an absolute http(s) URL", redactURL(req.URL.String()))
	}
	req.Header.Set("Accept", "application/json, application/*+json;q=0.9")
	req.Header.Set("User-Agent", userAgent)
	target := redactURL(req.URL.String())

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(err, c.timeout).With("url", target)
	}
	defer resp.Body.Close()

	out := &Response{
		Status:      resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Header:      resp.Header,
	}
	var readErr *errcode.Error
	out.Body, readErr = readBody(resp, c.maxBody, c.timeout)
	if e := classifyStatus(out, req.URL); e != nil {
		return out, e.With("url", target)
	}
	if readErr != nil {
		return out, readErr.With("url", target).With("status", out.Status)
	}
	if e := checkJSON(out, into); e != nil {
		return out, e.With("url", target).With("status", out.Status)
	}
	return out, nil
}

// readBody reads at most max bytes. A declared or actual size above max, a
// body cut short, or a read timeout is an error; the bytes read so far are
// returned either way so that a failure status can still be excerpted.
func readBody(resp *http.Response, max int64, timeout time.Duration) ([]byte, *errcode.Error) {
	if resp.ContentLength > max {
		return nil, errcode.New(errcode.ProviderInvalidResp, "body exceeds %s (Content-Length %d)", sizeString(max), resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if int64(len(body)) > max {
		return body[:max], errcode.New(errcode.ProviderInvalidResp, "body exceeds %s", sizeString(max))
	}
	if err != nil {
		return body, bodyReadError(err, len(body), timeout)
	}
	return body, nil
}

// redactURL drops the query, fragment and user info of a URL before it is
// logged: a misconfigured URL may carry credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	return u.String()
}
