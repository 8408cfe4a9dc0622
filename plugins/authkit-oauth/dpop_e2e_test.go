package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

// The request every DPoP test sends: https://api.example.test/api.
const apiURI = "https://api.example.test/api"

func dpopSigner(t testing.TB, k *signer) *dpop.Signer {
	t.Helper()
	s, err := dpop.NewSigner(k.key, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopReq sends token with the DPoP scheme and the given proofs (none,
// one, or several DPoP headers).
func dpopReq(token string, proofs ...string) *kongwire.Request {
	r := &kongwire.Request{Method: "GET", Scheme: "https", Host: "api.example.test", Port: 443, Path: "/api", Headers: http.Header{}}
	r.Headers.Set("Authorization", "DPoP "+token)
	for _, p := range proofs {
		r.Headers.Add("DPoP", p)
	}
	return r
}

func proofFor(t testing.TB, s *dpop.Signer, token string, kv ...any) string {
	t.Helper()
	c := map[string]any{"jti": fmt.Sprint("p-", time.Now().UnixNano(), "-", len(kv), "-", proofSeq()), "htm": "GET", "htu": apiURI,
		"iat": time.Now().Unix(), "ath": dpop.TokenHash(token)}
	hdr := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		if strings.HasPrefix(name, "hdr.") {
			hdr[name[4:]] = kv[i+1]
			continue
		}
		if kv[i+1] == nil {
			delete(c, name)
			continue
		}
		c[name] = kv[i+1]
	}
	p, err := s.Sign(hdr, c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var proofCounter struct {
	sync.Mutex
	n int
}

func proofSeq() int {
	proofCounter.Lock()
	defer proofCounter.Unlock()
	proofCounter.n++
	return proofCounter.n
}

// dpopRefused checks the refusal and its DPoP challenge (RFC 9449 §7.1):
// error value, algs and the catalog code.
func dpopRefused(t *testing.T, res *kongwire.Result, status int, code, rfcError string) {
	t.Helper()
	kongwire.CheckRefusal(t, res, "authkit-oauth", status, code)
	ch := res.Headers.Values("WWW-Authenticate")
	if len(ch) != 1 || !strings.HasPrefix(ch[0], "DPoP ") || !strings.Contains(ch[0], `error="`+rfcError+`"`) ||
		!strings.Contains(ch[0], `algs="`) || !strings.Contains(ch[0], `error_code="`+code+`"`) {
		t.Fatalf("challenge %q, want DPoP with error %s, algs and error_code %s", ch, rfcError, code)
	}
}

func boundClaims(iss, jkt string, kv ...any) jwt.MapClaims {
	return claims(iss, append([]any{"cnf", map[string]any{"jkt": jkt}}, kv...)...)
}

// TestDPoPEveryKeyType: proofs signed with ES256, RS256 and Ed25519 keys,
// for a JWT token and an introspected one (the provider answers cnf.jkt).
func TestDPoPEveryKeyType(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	jwtInst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional", "consumer_claim", "sub"))
	var bound sync.Map // opaque token → jkt
	p.set(func(p *fakeProvider) {
		p.introspect = func(w http.ResponseWriter, token string) {
			jkt, ok := bound.Load(token)
			if !ok {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"active":false}`)
				return
			}
			activeAnswer(p, `"token_type":"DPoP"`, fmt.Sprintf(`"cnf":{"jkt":%q}`, jkt))(w, token)
		}
	})
	introInst := startPlugin(t).StartInstance(t, introCfg(p, "proof_of_possession_dpop", "strict"))
	for _, k := range []*signer{newEC(t, "c1"), newRSA(t, "c2"), newEd(t, "c3")} {
		s := dpopSigner(t, k)
		t.Run(s.Alg()+"/jwt", func(t *testing.T) {
			tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
			res := jwtInst.Access(t, dpopReq(tok, proofFor(t, s, tok)))
			accepted(t, res)
			if res.AuthConsumer == nil || res.AuthConsumer.ID != userID {
				t.Fatalf("consumer %+v", res.AuthConsumer)
			}
		})
		t.Run(s.Alg()+"/introspection", func(t *testing.T) {
			tok := "opaque-" + s.Alg()
			bound.Store(tok, s.Thumbprint())
			accepted(t, introInst.Access(t, dpopReq(tok, proofFor(t, s, tok))))
			// The cached answer still needs a fresh proof, and its binding.
			accepted(t, introInst.Access(t, dpopReq(tok, proofFor(t, s, tok))))
			other := dpopSigner(t, newEC(t, "x"))
			dpopRefused(t, introInst.Access(t, dpopReq(tok, proofFor(t, other, tok))), 401, "OAUTH_DPOP_KEY_MISMATCH", "invalid_token")
			// §7.2: the introspected DPoP token as Bearer.
			dpopRefused(t, introInst.Access(t, bearerReq(tok)), 401, "OAUTH_DPOP_DOWNGRADE", "invalid_token")
		})
	}
}

// TestDPoPRefusals: every RFC 9449 §4.3 rule, through the plugin binary.
func TestDPoPRefusals(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional", "dpop_allowed_algs", []any{"ES256", "RS256", "EdDSA"}))
	client := newEC(t, "client")
	s := dpopSigner(t, client)
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
	otherKey := dpopSigner(t, newEC(t, "other"))
	tokOther := issuer.mint(t, boundClaims(p.issuer(), otherKey.Thumbprint()))
	unbound := issuer.mint(t, claims(p.issuer()))
	privJWK := map[string]any{}
	for k, v := range s.JWK {
		privJWK[k] = v
	}
	privJWK["d"] = "AAAA"
	now := time.Now()
	hmacProof := func() string {
		j := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"jti": "h", "htm": "GET", "htu": apiURI, "iat": now.Unix(), "ath": dpop.TokenHash(tok)})
		j.Header["typ"], j.Header["jwk"] = "dpop+jwt", s.JWK
		out, _ := j.SignedString([]byte("0123456789abcdef0123456789abcdef"))
		return out
	}
	noneProof := func() string {
		h := b64([]byte(`{"typ":"dpop+jwt","alg":"none","jwk":{"kty":"EC"}}`))
		c := b64([]byte(fmt.Sprintf(`{"jti":"n","htm":"GET","htu":%q,"iat":%d}`, apiURI, now.Unix())))
		return h + "." + c + "."
	}
	badSig := func() string {
		parts := strings.Split(proofFor(t, s, tok), ".")
		other := strings.Split(proofFor(t, otherKey, tok), ".")
		return parts[0] + "." + parts[1] + "." + other[2]
	}
	withReq := func(r *kongwire.Request, f func(r *kongwire.Request)) *kongwire.Request { f(r); return r }

	for _, tc := range []struct {
		name     string
		req      *kongwire.Request
		code     string
		rfcError string
	}{
		{"no proof", dpopReq(tok), "OAUTH_DPOP_PROOF_MISSING", "invalid_dpop_proof"},
		{"empty proof", dpopReq(tok, ""), "OAUTH_DPOP_PROOF_MISSING", "invalid_dpop_proof"},
		{"two proofs", dpopReq(tok, proofFor(t, s, tok), proofFor(t, s, tok)), "OAUTH_DPOP_PROOF_MULTIPLE", "invalid_dpop_proof"},
		{"two proofs in one header", dpopReq(tok, proofFor(t, s, tok)+", "+proofFor(t, s, tok)), "OAUTH_DPOP_PROOF_MULTIPLE", "invalid_dpop_proof"},
		{"not a JWT", dpopReq(tok, "not-a-jwt"), "OAUTH_DPOP_PROOF_MALFORMED", "invalid_dpop_proof"},
		{"no jti", dpopReq(tok, proofFor(t, s, tok, "jti", nil)), "OAUTH_DPOP_PROOF_MALFORMED", "invalid_dpop_proof"},
		{"wrong typ", dpopReq(tok, proofFor(t, s, tok, "hdr.typ", "JWT")), "OAUTH_DPOP_PROOF_TYPE_INVALID", "invalid_dpop_proof"},
		{"alg none", dpopReq(tok, noneProof()), "OAUTH_DPOP_ALGORITHM_NOT_ALLOWED", "invalid_dpop_proof"},
		{"alg HS256", dpopReq(tok, hmacProof()), "OAUTH_DPOP_ALGORITHM_NOT_ALLOWED", "invalid_dpop_proof"},
		{"private key in jwk", dpopReq(tok, proofFor(t, s, tok, "hdr.jwk", privJWK)), "OAUTH_DPOP_KEY_INVALID", "invalid_dpop_proof"},
		{"bad signature", dpopReq(tok, badSig()), "OAUTH_DPOP_SIGNATURE_INVALID", "invalid_dpop_proof"},
		{"wrong method", withReq(dpopReq(tok, proofFor(t, s, tok)), func(r *kongwire.Request) { r.Method = "POST" }), "OAUTH_DPOP_HTM_MISMATCH", "invalid_dpop_proof"},
		{"wrong scheme", dpopReq(tok, proofFor(t, s, tok, "htu", "http://api.example.test/api")), "OAUTH_DPOP_HTU_MISMATCH", "invalid_dpop_proof"},
		{"wrong host", dpopReq(tok, proofFor(t, s, tok, "htu", "https://evil.example.test/api")), "OAUTH_DPOP_HTU_MISMATCH", "invalid_dpop_proof"},
		{"wrong port", dpopReq(tok, proofFor(t, s, tok, "htu", "https://api.example.test:8443/api")), "OAUTH_DPOP_HTU_MISMATCH", "invalid_dpop_proof"},
		{"wrong path", dpopReq(tok, proofFor(t, s, tok, "htu", "https://api.example.test/admin")), "OAUTH_DPOP_HTU_MISMATCH", "invalid_dpop_proof"},
		{"wrong path, request with a query", withReq(dpopReq(tok, proofFor(t, s, tok, "htu", "https://api.example.test/api/x?a=1")), func(r *kongwire.Request) { r.RawQuery = "a=1" }), "OAUTH_DPOP_HTU_MISMATCH", "invalid_dpop_proof"},
		{"old iat", dpopReq(tok, proofFor(t, s, tok, "iat", now.Add(-400*time.Second).Unix())), "OAUTH_DPOP_PROOF_EXPIRED", "invalid_dpop_proof"},
		{"future iat", dpopReq(tok, proofFor(t, s, tok, "iat", now.Add(120*time.Second).Unix())), "OAUTH_DPOP_PROOF_NOT_YET_VALID", "invalid_dpop_proof"},
		{"missing ath", dpopReq(tok, proofFor(t, s, tok, "ath", nil)), "OAUTH_DPOP_ATH_MISMATCH", "invalid_dpop_proof"},
		{"wrong ath", dpopReq(tok, proofFor(t, s, tok, "ath", dpop.TokenHash(tokOther))), "OAUTH_DPOP_ATH_MISMATCH", "invalid_dpop_proof"},
		{"token bound to another key", dpopReq(tokOther, proofFor(t, s, tokOther)), "OAUTH_DPOP_KEY_MISMATCH", "invalid_token"},
		{"unbound token with the DPoP scheme", dpopReq(unbound, proofFor(t, s, unbound)), "OAUTH_DPOP_TOKEN_NOT_BOUND", "invalid_token"},
		{"DPoP token sent as Bearer", bearerReq(tok), "OAUTH_DPOP_DOWNGRADE", "invalid_token"},
		{"DPoP token as Bearer, with a proof", withReq(bearerReq(tok), func(r *kongwire.Request) { r.Headers.Set("DPoP", proofFor(t, s, tok)) }), "OAUTH_DPOP_DOWNGRADE", "invalid_token"},
		{"a bad proof is reported before an expired token", dpopReq(issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint(), "exp", now.Add(-time.Hour).Unix())), proofFor(t, s, "x", "ath", nil)), "OAUTH_DPOP_ATH_MISMATCH", "invalid_dpop_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := inst.Access(t, tc.req)
			dpopRefused(t, res, 401, tc.code, tc.rfcError)
			if strings.Contains(strings.Join(flatLogs(res), " "), tok) {
				t.Fatal("the token leaked into the log")
			}
		})
	}

	t.Run("query ignored in htu", func(t *testing.T) {
		r := dpopReq(tok, proofFor(t, s, tok, "htu", apiURI+"?b=2#f"))
		r.RawQuery = "a=1"
		accepted(t, inst.Access(t, r))
	})
	t.Run("expired token with a good proof", func(t *testing.T) {
		old := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint(), "exp", now.Add(-time.Hour).Unix()))
		dpopRefused(t, inst.Access(t, dpopReq(old, proofFor(t, s, old))), 401, "OAUTH_TOKEN_EXPIRED", "invalid_token")
	})
	t.Run("replayed jti", func(t *testing.T) {
		proof := proofFor(t, s, tok)
		accepted(t, inst.Access(t, dpopReq(tok, proof)))
		dpopRefused(t, inst.Access(t, dpopReq(tok, proof)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
		// Another config in the same process (Kong starts a new instance
		// on every config change) knows it too: the store is process-wide.
		again := inst.Server.StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "strict"))
		dpopRefused(t, again.Access(t, dpopReq(tok, proof)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
	})
	t.Run("replayed jti, concurrently", func(t *testing.T) {
		proof := proofFor(t, s, tok)
		const n = 16
		var wg sync.WaitGroup
		results := make([]*kongwire.Result, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = inst.Access(t, dpopReq(tok, proof)) }()
		}
		wg.Wait()
		ok := 0
		for _, r := range results {
			switch {
			case !r.Exited && r.Authenticated:
				ok++
			case r.Exited:
				dpopRefused(t, r, 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
			default:
				t.Fatalf("neither accepted nor refused: %+v", r)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent uses of one proof accepted, want 1", ok, n)
		}
	})
	t.Run("a bearer token still passes in optional mode", func(t *testing.T) {
		res := inst.Access(t, bearerReq(unbound))
		accepted(t, res)
	})
	t.Run("no token: Bearer and DPoP challenges", func(t *testing.T) {
		res := inst.Access(t, bearerReq(""))
		kongwire.CheckRefusal(t, res, "authkit-oauth", 401, "OAUTH_TOKEN_MISSING")
		ch := res.Headers.Values("WWW-Authenticate")
		if len(ch) != 1 || ch[0] != `Bearer realm="api", DPoP realm="api", algs="ES256 RS256 EdDSA"` {
			t.Fatalf("challenges %q", ch)
		}
	})
	t.Run("a bearer token's own refusal is a Bearer challenge", func(t *testing.T) {
		refused(t, inst.Access(t, bearerReq(issuer.mint(t, claims(p.issuer(), "exp", now.Add(-time.Hour).Unix())))), "", 401, "OAUTH_TOKEN_EXPIRED")
	})
}

func flatLogs(r *kongwire.Result) []string {
	var out []string
	for _, l := range r.Logs {
		out = append(out, l.Message)
	}
	return out
}

// TestDPoPStrict: in strict mode every token must be DPoP-bound and proven.
func TestDPoPStrict(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "strict", "hide_credentials", true))
	s := dpopSigner(t, newEd(t, "c"))
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
	unbound := issuer.mint(t, claims(p.issuer()))
	dpopRefused(t, inst.Access(t, bearerReq(unbound)), 401, "OAUTH_DPOP_TOKEN_NOT_BOUND", "invalid_token")
	dpopRefused(t, inst.Access(t, dpopReq(unbound, proofFor(t, s, unbound))), 401, "OAUTH_DPOP_TOKEN_NOT_BOUND", "invalid_token")
	// Strict: even a missing token is challenged with DPoP only.
	res := inst.Access(t, bearerReq(""))
	kongwire.CheckRefusal(t, res, "authkit-oauth", 401, "OAUTH_TOKEN_MISSING")
	if ch := res.Headers.Values("WWW-Authenticate"); len(ch) != 1 || !strings.HasPrefix(ch[0], `DPoP realm="api", algs="`) {
		t.Fatalf("challenges %q", ch)
	}
	res = inst.Access(t, dpopReq(tok, proofFor(t, s, tok)))
	accepted(t, res)
	// hide_credentials removes the proof with the token.
	if _, ok := res.UpstreamHeaders["Authorization"]; ok || res.UpstreamHeaders.Get("DPoP") != "" {
		t.Fatalf("upstream headers %v", res.UpstreamHeaders)
	}
}

// TestDPoPNonce: RFC 9449 §8, §9 through the binary.
func TestDPoPNonce(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional", "dpop_use_nonce", true))
	s := dpopSigner(t, newEC(t, "c"))
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))

	res := inst.Access(t, dpopReq(tok, proofFor(t, s, tok)))
	dpopRefused(t, res, 401, "OAUTH_DPOP_NONCE_REQUIRED", "use_dpop_nonce")
	nonce := res.Header("DPoP-Nonce")
	if len(nonce) != 32 {
		t.Fatalf("DPoP-Nonce %q", nonce)
	}
	res = inst.Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", "stale-or-forged")))
	dpopRefused(t, res, 401, "OAUTH_DPOP_NONCE_INVALID", "use_dpop_nonce")
	if res.Header("DPoP-Nonce") != nonce {
		t.Fatalf("the same period's nonce: %q vs %q", res.Header("DPoP-Nonce"), nonce)
	}
	res = inst.Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", nonce)))
	accepted(t, res)
	if res.Header("DPoP-Nonce") != "" {
		t.Fatalf("the current nonce needs no new one: %q", res.Header("DPoP-Nonce"))
	}
	// A bearer token needs no nonce.
	accepted(t, inst.Access(t, bearerReq(issuer.mint(t, claims(p.issuer())))))
}

// TestDPoPRoundTrips: a DPoP request costs what a bearer request costs:
// the event and one batch (the URI and method join the headers).
func TestDPoPRoundTrips(t *testing.T) {
	issuer := newRSA(t, "k")
	p := newProvider(t, issuer)
	inst := startPlugin(t).StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional"))
	s := dpopSigner(t, newEC(t, "c"))
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
	inst.Access(t, dpopReq(tok, proofFor(t, s, tok)))
	ok := inst.Access(t, dpopReq(tok, proofFor(t, s, tok)))
	bad := inst.Access(t, dpopReq(tok, proofFor(t, s, tok, "htm", "PUT")))
	batch := []string{"kong.request.get_headers", "kong.request.get_method", "kong.request.get_scheme", "kong.request.get_forwarded_scheme",
		"kong.request.get_forwarded_host", "kong.request.get_forwarded_port", "kong.request.get_path_with_query"}
	kongwire.CheckTrips(t, "success", ok, 1, 2, append(batch, "kong.client.authenticate", "kong.service.request.set_headers")...)
	kongwire.CheckTrips(t, "refusal", bad, 1, 2, append(batch, "kong.log.notice", "kong.log.set_serialize_value", "kong.response.exit")...)
}
