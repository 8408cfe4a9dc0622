package errcode

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestCatalogEntriesComplete(t *testing.T) {
	bearer := map[string]bool{"": true, "invalid_request": true, "invalid_token": true, "insufficient_scope": true,
		"invalid_grant": true, "invalid_scope": true, "unauthorized_client": true, "unsupported_grant_type": true,
		"invalid_client": true, "access_denied": true,
		ErrInvalidDPoPProof: true, ErrUseDPoPNonce: true} // RFC 9449 §7.1, §12.2
	for _, e := range All() {
		if e.Status < 400 || e.Status > 599 {
			t.Errorf("%s: status %d is not an error status", e.Code, e.Status)
		}
		if e.Message == "" || e.Cause == "" || e.Hint == "" {
			t.Errorf("%s: message, cause and hint are all required", e.Code)
		}
		if !bearer[e.BearerError] {
			t.Errorf("%s: %q is not an RFC 6749/6750 error value", e.Code, e.BearerError)
		}
		// The client message is sent verbatim in JSON and must not need escaping.
		if strings.ContainsAny(e.Message, "\"\\") {
			t.Errorf("%s: message must not contain quotes or backslashes", e.Code)
		}
	}
}

// The statuses the spine issue fixes are part of the public interface.
func TestPublicStatuses(t *testing.T) {
	want := map[Code]int{
		TokenMissing: 401, RequestInvalid: 400, TokenMalformed: 401, TokenExpired: 401, InsufficientScope: 403,
		ClaimMismatch: 403, ProviderUnreachable: 503, ProviderTimeout: 504, ProviderError: 502,
		ProviderInvalidResp: 502, ProviderClientAuthFail: 500, BasicMalformed: 400, BasicLockedOut: 429,
		ConfigInvalid: 500, ConsumerNotFound: 500, InternalError: 500, APIKeyMissing: 401,
	}
	for c, s := range want {
		if got := c.Status(); got != s {
			t.Errorf("%s: status %d, want %d", c, got, s)
		}
	}
	if TokenMissing.Entry().BearerError != "" {
		t.Error("RFC 6750 §3.1: a missing token's challenge must carry no error code")
	}
}

func TestUnknownCodeFailsClosed(t *testing.T) {
	e, ok := Lookup("NOPE")
	if ok || e.Code != InternalError || e.Status != 500 {
		t.Fatalf("unknown code: got %+v, %v", e, ok)
	}
}

func TestErrorsIs(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("context: %w", Wrap(TokenExpired, base).With("exp", 1))
	if !errors.Is(err, TokenExpired) {
		t.Error("errors.Is(err, TokenExpired) = false")
	}
	if errors.Is(err, TokenMalformed) {
		t.Error("errors.Is matched the wrong code")
	}
	if !errors.Is(err, base) {
		t.Error("the cause is not unwrapped")
	}
	if got := From(err); got.Code != TokenExpired || got.Field("exp") != 1 {
		t.Errorf("From: %+v", got)
	}
	if got := From(errors.New("plain")); got.Code != InternalError {
		t.Errorf("an uncoded error must become INTERNAL_ERROR, got %s", got.Code)
	}
	if got := From(fmt.Errorf("x: %w", KeyNotFound)); got.Code != KeyNotFound {
		t.Errorf("a bare code must be recognised, got %s", got.Code)
	}
}

// TestDocsFresh fails when docs/error-codes.md no longer matches the catalog.
func TestDocsFresh(t *testing.T) {
	got, err := os.ReadFile("../../docs/error-codes.md")
	if err != nil {
		t.Fatalf("%v (run: go generate ./pkg/errcode)", err)
	}
	if !bytes.Equal(got, Markdown()) {
		t.Fatal("docs/error-codes.md is stale: run `go generate ./pkg/errcode`")
	}
}

// With and WithHeader return copies: a shared error (singleflight, a key
// set's last fetch error) is decorated by many goroutines at once, and a
// concurrent map write would be fatal (issue 18). Run with -race.
func TestWithCopiesTheReceiver(t *testing.T) {
	shared := New(ProviderError, "provider answered 500").With("status", 500)
	a := shared.With("credential", "aaaa").WithHeader("Retry-After", "1")
	b := shared.With("credential", "bbbb")
	if shared.Field("credential") != nil || len(maps.Collect(shared.Headers())) != 0 {
		t.Fatalf("With wrote into its receiver: %v", maps.Collect(shared.Fields()))
	}
	if a.Field("credential") != "aaaa" || b.Field("credential") != "bbbb" || a.Field("status") != 500 {
		t.Fatalf("copies: %v %v", maps.Collect(a.Fields()), maps.Collect(b.Fields()))
	}
	if got := maps.Collect(a.Headers()); got["Retry-After"] != "1" {
		t.Fatalf("headers %v", got)
	}

	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := From(fmt.Errorf("wrapped: %w", shared)).With("request", i).WithHeader("X", "y")
			if e.Field("request") != i || e.Code != ProviderError {
				t.Errorf("request %d got %v", i, e.Field("request"))
			}
			for range shared.Fields() { // concurrent readers too
			}
		}()
	}
	wg.Wait()
}

// TestEveryCodeHasAnEntry reads this package's source for every constant
// of type Code: one without a catalog entry would refuse as
// INTERNAL_ERROR (Lookup fails closed) instead of with its own status,
// message and hint.
func TestEveryCodeHasAnEntry(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
						continue
					}
					for i, n := range vs.Names {
						lit := vs.Values[i].(*ast.BasicLit)
						code, _ := strconv.Unquote(lit.Value)
						consts = append(consts, n.Name)
						if _, ok := Lookup(Code(code)); !ok {
							t.Errorf("%s (%s) has no catalog entry", n.Name, code)
						}
					}
				}
			}
		}
	}
	if len(consts) != len(All()) {
		t.Errorf("%d Code constants, %d catalog entries: an entry without a constant, or a constant declared without the Code type", len(consts), len(All()))
	}
}

func TestOutcomes(t *testing.T) {
	got := Outcomes()
	want := []Outcome{OutcomeAccepted, OutcomeRefused, OutcomeAnonymous}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Outcomes()[%d] = %q, want %q", i, got[i], want[i])
		}
	}
	if n := len(Codes()); n != len(All()) || n == 0 {
		t.Fatalf("Codes() has %d entries, the catalog %d", n, len(All()))
	}
}
