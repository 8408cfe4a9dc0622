// Package hydratest runs a real Ory Hydra v2.3.0 (built from tools/hydra by
// scripts/hydra.sh) as an OAuth 2.0 / OIDC test peer bound to 127.0.0.1.
//
// Each Start gets its own process, ports and WAL SQLite database in
// t.TempDir(); the process is killed in t.Cleanup. Only the standard library
// is used, so the main module inherits nothing from Hydra.
//
//	h := hydratest.Start(t, hydratest.StrategyJWT)
//	h.CreateClient(t, hydratest.ClientSpec{ID: "c1", Secret: "s1", Scope: "read"})
//	tok := h.ClientCredentialsToken(t, "c1", "s1", "read", nil)
package hydratest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Access-token strategies accepted by Start.
const (
	StrategyJWT    = "jwt"
	StrategyOpaque = "opaque"
)

// Key sets Hydra signs JWT access tokens and ID tokens with.
const (
	AccessTokenKeySet = "hydra.jwt.access-token"
	IDTokenKeySet     = "hydra.openid.id-token"
)

const readyTimeout = 30 * time.Second

// Hydra is a running Hydra instance.
type Hydra struct {
	bin        string
	dir        string
	strategy   string
	secret     string
	publicPort int
	adminPort  int
	logPath    string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// ClientSpec describes an OAuth 2.0 client created through the admin API.
// Zero values get defaults: GrantTypes ["client_credentials"], or
// ["authorization_code","refresh_token"] when RedirectURIs is set;
// ResponseTypes ["code"] when authorization_code is granted;
// TokenEndpointAuthMethod "client_secret_basic".
type ClientSpec struct {
	ID                      string
	Secret                  string
	GrantTypes              []string
	Scope                   string // space-separated allowed scopes
	Audience                []string
	RedirectURIs            []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string
}

var (
	buildOnce sync.Once
	buildBin  string
	buildOut  []byte
	buildErr  error
)

// RepoRoot returns the kong-authkit repository root: the nearest directory
// above the working directory whose go.mod declares the root module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/kong-authkit/kong-authkit\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hydratest: no go.mod of module github.com/kong-authkit/kong-authkit above the working directory")
		}
		dir = parent
	}
}

// Binary builds Hydra if needed (scripts/hydra.sh build, once per test
// process) and returns the binary's path. A failed build is fatal.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "hydra.sh"), "build")
		cmd.Dir = root
		buildOut, buildErr = cmd.CombinedOutput()
		buildBin = filepath.Join(root, "tools", "hydra", "bin", "hydra")
	})
	if buildErr != nil {
		t.Fatalf("hydratest: building Hydra failed: %v\n%s", buildErr, buildOut)
	}
	return buildBin
}

// Start builds Hydra if needed and starts it with the given access-token
// strategy ("jwt" or "opaque") on two free 127.0.0.1 ports. It skips only in
// -short mode; any other failure is fatal.
func Start(t testing.TB, strategy string) *Hydra {
	t.Helper()
	if testing.Short() {
		t.Skip("hydratest: skipping the real Hydra peer in -short mode")
	}
	if strategy != StrategyJWT && strategy != StrategyOpaque {
		t.Fatalf("hydratest: unknown strategy %q (want jwt or opaque)", strategy)
	}
	bin := Binary(t)
	h := &Hydra{
		bin:      bin,
		dir:      t.TempDir(),
		strategy: strategy,
		secret:   randomHex(32),
	}
	h.logPath = filepath.Join(h.dir, "hydra.log")
	t.Cleanup(func() {
		h.kill()
		if t.Failed() {
			t.Logf("hydratest: tail of %s:\n%s", h.logPath, h.logTail(30))
		}
	})
	if err := h.migrate(); err != nil {
		t.Fatalf("hydratest: %v\n%s", err, h.logTail(40))
	}
	// A free port found by listen+close can be taken by someone else before
	// Hydra binds it: retry with fresh ports.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		h.publicPort, h.adminPort = freePort(t), freePort(t)
		for h.adminPort == h.publicPort {
			h.adminPort = freePort(t)
		}
		if err = h.start(); err == nil {
			return h
		}
		if !strings.Contains(h.logTail(20), "address already in use") {
			break
		}
	}
	t.Fatalf("hydratest: %v\n%s", err, h.logTail(40))
	return nil
}

// PublicURL is the public (OAuth 2.0) endpoint's base URL; it is the issuer.
func (h *Hydra) PublicURL() string { return "http://127.0.0.1:" + strconv.Itoa(h.publicPort) }

// AdminURL is the admin API's base URL (introspection, clients, keys, login/consent).
func (h *Hydra) AdminURL() string { return "http://127.0.0.1:" + strconv.Itoa(h.adminPort) }

// Issuer is the "iss" of tokens Hydra issues (= PublicURL, no trailing slash).
func (h *Hydra) Issuer() string { return h.PublicURL() }

// TokenURL is the token endpoint.
func (h *Hydra) TokenURL() string { return h.PublicURL() + "/oauth2/token" }

// JWKSURL is the public JWKS endpoint.
func (h *Hydra) JWKSURL() string { return h.PublicURL() + "/.well-known/jwks.json" }

// IntrospectionURL is the (admin-port, unauthenticated) introspection endpoint.
func (h *Hydra) IntrospectionURL() string { return h.AdminURL() + "/admin/oauth2/introspect" }

// RevocationURL is the public revocation endpoint.
func (h *Hydra) RevocationURL() string { return h.PublicURL() + "/oauth2/revoke" }

// Strategy is the access-token strategy Hydra was started with.
func (h *Hydra) Strategy() string { return h.strategy }

// Dir is the instance's directory (db.sqlite, hydra.log).
func (h *Hydra) Dir() string { return h.dir }

// LogTail returns the last n lines of Hydra's log.
func (h *Hydra) LogTail(n int) string { return h.logTail(n) }

// Stop kills Hydra (for "provider stopped mid-test" tests). Idempotent.
func (h *Hydra) Stop(t testing.TB) {
	t.Helper()
	h.kill()
}

// Restart stops Hydra if running and starts it again on the same ports,
// database and system secret, so clients, keys and tokens survive.
func (h *Hydra) Restart(t testing.TB) {
	t.Helper()
	h.kill()
	if err := h.start(); err != nil {
		t.Fatalf("hydratest: restart: %v\n%s", err, h.logTail(40))
	}
}

// CreateClient creates an OAuth 2.0 client through the admin API.
func (h *Hydra) CreateClient(t testing.TB, c ClientSpec) {
	t.Helper()
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{"client_credentials"}
		if len(c.RedirectURIs) > 0 {
			grants = []string{"authorization_code", "refresh_token"}
		}
	}
	resp := c.ResponseTypes
	if len(resp) == 0 {
		for _, g := range grants {
			if g == "authorization_code" {
				resp = []string{"code"}
			}
		}
	}
	method := c.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	body := map[string]any{
		"client_id":                  c.ID,
		"client_secret":              c.Secret,
		"grant_types":                grants,
		"scope":                      c.Scope,
		"token_endpoint_auth_method": method,
	}
	if c.Audience != nil {
		body["audience"] = c.Audience
	}
	if c.RedirectURIs != nil {
		body["redirect_uris"] = c.RedirectURIs
	}
	if resp != nil {
		body["response_types"] = resp
	}
	status, out := h.adminJSON(t, http.MethodPost, "/admin/clients", body)
	if status != http.StatusCreated {
		t.Fatalf("hydratest: create client %q: HTTP %d: %s", c.ID, status, out)
	}
}

// TokenRequest POSTs form to /oauth2/token, with HTTP Basic client
// authentication when basicUser is not empty (user and password are
// form-urlencoded first, as RFC 6749 §2.3.1 requires), and returns the raw
// answer. It never fails the test on an OAuth error: it is for negative tests.
func (h *Hydra) TokenRequest(t testing.TB, form url.Values, basicUser, basicPass string) (status int, body []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("hydratest: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return h.do(t, req)
}

// ClientCredentialsToken runs the client_credentials grant (client_secret_basic)
// and returns the access token; any error is fatal. Empty scope and nil
// audience are left out of the request.
func (h *Hydra) ClientCredentialsToken(t testing.TB, id, secret, scope string, audience []string) (accessToken string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	for _, a := range audience {
		form.Add("audience", a)
	}
	status, body := h.TokenRequest(t, form, id, secret)
	if status != http.StatusOK {
		t.Fatalf("hydratest: client_credentials for %q: HTTP %d: %s", id, status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("hydratest: token response without access_token (%v): %s", err, body)
	}
	return tok.AccessToken
}

// ExchangeCode redeems an authorization code at /oauth2/token
// (client_secret_basic) and returns the raw answer.
func (h *Hydra) ExchangeCode(t testing.TB, clientID, secret, code, redirectURI string) (status int, body []byte) {
	t.Helper()
	return h.TokenRequest(t, url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {redirectURI},
	}, clientID, secret)
}

// Revoke revokes token at /oauth2/revoke with client_secret_basic; a non-200
// answer is fatal.
func (h *Hydra) Revoke(t testing.TB, id, secret, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.RevocationURL(),
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatalf("hydratest: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	status, body := h.do(t, req)
	if status != http.StatusOK {
		t.Fatalf("hydratest: revoke: HTTP %d: %s", status, body)
	}
}

// RotateKeys adds a new RS256 signing key to the access-token key set and
// returns its kid. New JWT access tokens carry it at once; the old public key
// stays in the JWKS. Quirk (ory/fosite#786, ory/hydra#3408): Hydra's
// introspection then answers active:false for tokens signed with older kids,
// although their signatures still verify against the JWKS.
func (h *Hydra) RotateKeys(t testing.TB) (kid string) {
	t.Helper()
	before, err := h.keySetKids(AccessTokenKeySet)
	if err == nil {
		kid, err = h.addKey(AccessTokenKeySet, before)
	}
	if err != nil {
		t.Fatalf("hydratest: rotate keys: %v", err)
	}
	return kid
}

// Introspect asks the admin introspection endpoint about token and returns
// the decoded JSON ({"active":false} for unknown, revoked, expired tokens).
func (h *Hydra) Introspect(t testing.TB, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.IntrospectionURL(),
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatalf("hydratest: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body := h.do(t, req)
	if status != http.StatusOK {
		t.Fatalf("hydratest: introspect: HTTP %d: %s", status, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("hydratest: introspect: %v: %s", err, body)
	}
	return m
}

// AuthorizationCode drives the authorization-code flow without a browser,
// granting every requested scope to subject "user-1", and returns the code.
// The client must allow redirectURI and the authorization_code grant.
func (h *Hydra) AuthorizationCode(t testing.TB, clientID, redirectURI, scope string) (code string) {
	t.Helper()
	return h.AuthorizationCodeAudience(t, clientID, redirectURI, scope, nil)
}

// AuthorizationCodeAudience is AuthorizationCode that also requests (and
// grants) an access-token audience.
func (h *Hydra) AuthorizationCodeAudience(t testing.TB, clientID, redirectURI, scope string, audience []string) (code string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Jar:     jar,
		Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	state := randomHex(16)
	q := url.Values{
		"client_id":     {clientID},
		"response_type": {"code"},
		"redirect_uri":  {redirectURI},
		"scope":         {scope},
		"state":         {state},
	}
	if len(audience) > 0 {
		q.Set("audience", strings.Join(audience, " "))
	}
	loc := h.redirect(t, browser, h.PublicURL()+"/oauth2/auth?"+q.Encode())

	loginChallenge := queryParam(t, loc, "login_challenge")
	status, out := h.adminJSON(t, http.MethodPut,
		"/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(loginChallenge),
		map[string]any{"subject": "user-1"})
	if status != http.StatusOK {
		t.Fatalf("hydratest: accept login: HTTP %d: %s", status, out)
	}
	loc = h.redirect(t, browser, redirectTo(t, out))

	consentChallenge := queryParam(t, loc, "consent_challenge")
	status, out = h.adminJSON(t, http.MethodGet,
		"/admin/oauth2/auth/requests/consent?consent_challenge="+url.QueryEscape(consentChallenge), nil)
	if status != http.StatusOK {
		t.Fatalf("hydratest: get consent request: HTTP %d: %s", status, out)
	}
	var consent struct {
		RequestedScope    []string `json:"requested_scope"`
		RequestedAudience []string `json:"requested_access_token_audience"`
	}
	if err := json.Unmarshal(out, &consent); err != nil {
		t.Fatalf("hydratest: consent request: %v: %s", err, out)
	}
	grant := map[string]any{
		"grant_scope":                 nonNil(consent.RequestedScope),
		"grant_access_token_audience": nonNil(consent.RequestedAudience),
	}
	status, out = h.adminJSON(t, http.MethodPut,
		"/admin/oauth2/auth/requests/consent/accept?consent_challenge="+url.QueryEscape(consentChallenge), grant)
	if status != http.StatusOK {
		t.Fatalf("hydratest: accept consent: HTTP %d: %s", status, out)
	}
	loc = h.redirect(t, browser, redirectTo(t, out))

	final, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("hydratest: final redirect %q: %v", loc, err)
	}
	if e := final.Query().Get("error"); e != "" {
		t.Fatalf("hydratest: authorization failed: %s: %s", e, final.Query().Get("error_description"))
	}
	if !strings.HasPrefix(loc, redirectURI) {
		t.Fatalf("hydratest: final redirect %q is not to %q", loc, redirectURI)
	}
	if got := final.Query().Get("state"); got != state {
		t.Fatalf("hydratest: state %q, want %q", got, state)
	}
	code = final.Query().Get("code")
	if code == "" {
		t.Fatalf("hydratest: final redirect without code: %s", loc)
	}
	return code
}

// ---- internals ----

func (h *Hydra) env() []string {
	pub := strconv.Itoa(h.publicPort)
	return append(os.Environ(),
		"DSN="+h.dsn(),
		"URLS_SELF_ISSUER="+h.PublicURL(),
		// Never served: AuthorizationCode only reads the challenge from the
		// Location header Hydra redirects to.
		"URLS_LOGIN=http://127.0.0.1:"+pub+"/_test/login",
		"URLS_CONSENT=http://127.0.0.1:"+pub+"/_test/consent",
		"URLS_ERROR=http://127.0.0.1:"+pub+"/_test/error",
		"SERVE_PUBLIC_HOST=127.0.0.1",
		"SERVE_PUBLIC_PORT="+pub,
		"SERVE_ADMIN_HOST=127.0.0.1",
		"SERVE_ADMIN_PORT="+strconv.Itoa(h.adminPort),
		"SECRETS_SYSTEM="+h.secret,
		"STRATEGIES_ACCESS_TOKEN="+h.strategy,
		"STRATEGIES_JWT_SCOPE_CLAIM=both",
	)
}

func (h *Hydra) dsn() string {
	return "sqlite://" + filepath.Join(h.dir, "db.sqlite") + "?_fk=true&_journal_mode=WAL&_busy_timeout=10000"
}

func (h *Hydra) migrate() error {
	cmd := exec.Command(h.bin, "migrate", "sql", "up", "-e", "--yes")
	cmd.Env = append(os.Environ(), "DSN="+h.dsn())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("hydra migrate sql up: %v\n%s", err, out)
	}
	return nil
}

func (h *Hydra) start() error {
	logf, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(h.bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Env = h.env()
	cmd.Dir = h.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start hydra: %w", err)
	}
	logf.Close() // the child holds its own copy
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.mu.Lock()
	h.cmd, h.done = cmd, done
	h.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for _, base := range []string{h.PublicURL(), h.AdminURL()} {
		if err := waitReady(base+"/health/ready", deadline, done); err != nil {
			h.kill()
			return fmt.Errorf("hydra (pid %d) not ready: %w", cmd.Process.Pid, err)
		}
	}
	if err := h.warmKeys(); err != nil {
		h.kill()
		return err
	}
	return nil
}

// warmKeys makes sure both well-known key sets exist before a test runs.
// Hydra generates them lazily (RSA-4096) inside the first request that needs
// them, and its HTTP server has a fixed 10 s write timeout: on a busy machine
// that first token, ID-token or JWKS request can exceed it and the client
// sees EOF (and Go's client silently retries GETs, which burns a consent
// verifier). Generating them here, tolerating that timeout, avoids both.
func (h *Hydra) warmKeys() error {
	sets := []string{IDTokenKeySet, AccessTokenKeySet}
	errs := make(chan error, len(sets))
	for _, set := range sets {
		go func() {
			kids, err := h.keySetKids(set)
			if err == nil && len(kids) == 0 {
				_, err = h.addKey(set, kids)
			}
			errs <- err
		}()
	}
	var first error
	for range sets {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// keySetKids lists the kids of a key set on the admin API (none if absent).
func (h *Hydra) keySetKids(set string) (map[string]bool, error) {
	resp, err := httpClient.Get(h.AdminURL() + "/admin/keys/" + set)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	kids := map[string]bool{}
	if resp.StatusCode == http.StatusNotFound {
		return kids, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /admin/keys/%s: HTTP %d: %s", set, resp.StatusCode, body)
	}
	var ks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &ks); err != nil {
		return nil, fmt.Errorf("GET /admin/keys/%s: %v: %s", set, err, body)
	}
	for _, k := range ks.Keys {
		kids[k.Kid] = true
	}
	return kids, nil
}

// addKey asks Hydra to generate an RS256 key in set and waits until a kid
// not in before is listed. A transport error on the POST (the 10 s write
// timeout while Hydra generates the RSA-4096 key) is tolerated: the handler
// still finishes and persists the key.
func (h *Hydra) addKey(set string, before map[string]bool) (string, error) {
	req, err := http.NewRequest(http.MethodPost, h.AdminURL()+"/admin/keys/"+set,
		strings.NewReader(`{"alg":"RS256","use":"sig"}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := httpClient.Do(req); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("POST /admin/keys/%s: HTTP %d: %s", set, resp.StatusCode, body)
		}
	}
	deadline := time.Now().Add(requestTimeout)
	for {
		kids, err := h.keySetKids(set)
		if err != nil {
			return "", err
		}
		for kid := range kids {
			if !before[kid] {
				return kid, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("key set %s: no new key within %s", set, requestTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *Hydra) kill() {
	h.mu.Lock()
	cmd, done := h.cmd, h.done
	h.cmd, h.done = nil, nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

func waitReady(url string, deadline time.Time, done <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-done:
			return errors.New("process exited")
		default:
		}
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s", url, readyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requestTimeout is generous: Hydra generates RSA-4096 keys lazily (on the
// first JWT, ID token or JWKS request, and on RotateKeys), which takes 0.2–1 s
// on an idle 2-core machine but well over 10 s on a busy one.
const requestTimeout = 2 * time.Minute

var httpClient = &http.Client{Timeout: requestTimeout}

func (h *Hydra) do(t testing.TB, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("hydratest: %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("hydratest: %s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, body
}

func (h *Hydra) adminJSON(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("hydratest: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.AdminURL()+path, rd)
	if err != nil {
		t.Fatalf("hydratest: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return h.do(t, req)
}

// redirect GETs u without following redirects and returns the absolute Location.
func (h *Hydra) redirect(t testing.TB, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("hydratest: GET %s: %v", u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		t.Fatalf("hydratest: GET %s: HTTP %d, want a redirect: %s", u, resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("hydratest: GET %s: HTTP %d without Location: %v", u, resp.StatusCode, err)
	}
	return loc.String()
}

func redirectTo(t testing.TB, body []byte) string {
	t.Helper()
	var r struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.RedirectTo == "" {
		t.Fatalf("hydratest: no redirect_to (%v): %s", err, body)
	}
	return r.RedirectTo
}

func queryParam(t testing.TB, loc, name string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("hydratest: redirect %q: %v", loc, err)
	}
	v := u.Query().Get(name)
	if v == "" {
		t.Fatalf("hydratest: redirect %q carries no %s (error=%q %q)", loc, name,
			u.Query().Get("error"), u.Query().Get("error_description"))
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hydratest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (h *Hydra) logTail(n int) string {
	f, err := os.Open(h.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
