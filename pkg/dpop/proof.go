// Package dpop checks DPoP proofs (RFC 9449) at a resource server: the
// proof JWT of the `DPoP` request header, its binding to the request
// (method, URI, time, access token), to the access token's key
// confirmation (`cnf.jkt`, RFC 7638 thumbprints) and its single use (a
// replay store of seen `jti`s), plus server-issued nonces (§8, §9).
//
// Every refusal is an *errcode.Error with one code per check, so a client
// developer can tell "wrong URI" from "wrong key" from "replayed".
package dpop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// MaxProofLen bounds a proof (8 KiB): an RSA-4096 key in the header and
// the claims fit in well under half of it.
const MaxProofLen = 8 << 10

// maxClaimLen bounds jti, htm, htu, ath and nonce: they are echoed into
// log fields and a jti is kept in the replay store.
const maxClaimLen = 1024

// Proof is a DPoP proof whose structure, header and signature have been
// checked (Parse). The request-bound checks are the Verifier's.
type Proof struct {
	Alg string
	// Key is the public key of the "jwk" header; Thumbprint is its RFC 7638
	// SHA-256 thumbprint, base64url: what cnf.jkt must equal (RFC 9449 §6.1).
	Key        *jwks.Key
	Thumbprint string

	JTI, HTM, HTU string
	IssuedAt      time.Time
	// ATH and Nonce are "" when absent (HasATH, HasNonce tell).
	ATH, Nonce       string
	HasATH, HasNonce bool
}

// segmentEncoding is base64url without padding (RFC 7515 §2); Strict
// refuses non-zero trailing bits, so one proof has one spelling.
var segmentEncoding = base64.RawURLEncoding.Strict()

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parse checks RFC 9449 §4.3 (2) to (7): a well-formed JWS whose header
// has typ dpop+jwt, an allowed asymmetric alg and a public jwk that fits
// it, and whose signature verifies with that jwk. The claims are decoded
// and typed, not yet judged. Cheap checks first: no crypto before the
// header has passed.
func parse(proof string, algs map[string]*algorithm, allowed []string) (*Proof, error) {
	if len(proof) > MaxProofLen {
		return nil, malformed("proof is %d bytes, the limit is %d", len(proof), MaxProofLen).With("length", len(proof))
	}
	i := strings.IndexByte(proof, '.')
	j := i + 1 + strings.IndexByte(proof[i+1:], '.')
	if i < 0 || j <= i || strings.IndexByte(proof[j+1:], '.') >= 0 {
		return nil, malformed("not a compact JWS: %d segments, want 3", strings.Count(proof, ".")+1).With("part", "proof")
	}
	hb, err := decode(proof[:i], "header")
	if err != nil {
		return nil, err
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr == nil {
		return nil, malformed("header is not a JSON object").With("part", "header")
	}
	if _, ok := hdr["crit"]; ok {
		// RFC 7515 §4.1.11: extensions not understood make the JWS invalid.
		return nil, malformed("header has crit: no JWS extension is supported").With("part", "header")
	}
	typ, ok := str(hdr, "typ")
	// RFC 9449 §4.2: typ is "dpop+jwt"; media type names compare
	// case-insensitively and "application/" may be omitted (RFC 7515 §4.1.9).
	if !ok || !(strings.EqualFold(typ, "dpop+jwt") || strings.EqualFold(typ, "application/dpop+jwt")) {
		return nil, errcode.New(errcode.DPoPProofType, "typ %q is not dpop+jwt", clip(typ)).With("typ", clip(typ))
	}
	name, _ := str(hdr, "alg")
	a, ok := algs[name]
	if !ok {
		why := "not in dpop_allowed_algs"
		switch {
		case name == "":
			why = "missing"
		case strings.EqualFold(name, "none"):
			why = "none: an unsigned proof proves nothing (RFC 9449 §4.3 (5))"
		case strings.HasPrefix(strings.ToUpper(name), "HS"):
			why = "a MAC, not an asymmetric signature (RFC 9449 §4.3 (5))"
		}
		return nil, errcode.New(errcode.DPoPAlgorithm, "alg %q: %s", clip(name), why).With("alg", clip(name)).With("allowed", allowed)
	}
	rawKey, ok := hdr["jwk"]
	if !ok {
		return nil, keyInvalid("the header has no jwk (RFC 9449 §4.2)")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(rawKey, &members); err != nil || members == nil {
		return nil, keyInvalid("jwk is not a JSON object")
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			// RFC 9449 §4.3 (7): "the jwk JOSE Header Parameter does not
			// contain a private key". Whoever sees one can forge proofs.
			return nil, keyInvalid("jwk carries private key material (%q): the key is compromised", m).With("member", m)
		}
	}
	key, err := jwks.ParsePublicKey(rawKey)
	if err != nil {
		return nil, keyInvalid("jwk: %v", err)
	}
	if why := a.fits(key.Type, key.Public); why != "" {
		return nil, keyInvalid("jwk does not fit alg %s: %s", a.name, why).With("alg", a.name).With("kty", key.Type)
	}
	if key.Alg != "" && key.Alg != a.name {
		return nil, keyInvalid("jwk is for alg %s, the proof uses %s", clip(key.Alg), a.name).With("alg", a.name)
	}
	pb, err := decode(proof[i+1:j], "payload")
	if err != nil {
		return nil, err
	}
	sig, err := decode(proof[j+1:], "signature")
	if err != nil {
		return nil, err
	}
	// RFC 9449 §4.3 (6): the signature verifies with the proof's own key.
	if err := a.method.Verify(proof[:j], sig, key.Public); err != nil {
		return nil, errcode.Wrap(errcode.DPoPSignatureInvalid, err).With("alg", a.name)
	}
	p := &Proof{Alg: a.name, Key: key}
	if p.Thumbprint, err = Thumbprint(key); err != nil {
		return nil, keyInvalid("thumbprint: %v", err)
	}
	if err := p.claims(pb); err != nil {
		return nil, err
	}
	return p, nil
}

// claims types the payload (RFC 9449 §4.2, §4.3 (3)): jti, htm, htu and iat
// are required; ath and nonce are read when present.
func (p *Proof) claims(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var c map[string]json.RawMessage
	if err := d.Decode(&c); err != nil || c == nil {
		return malformed("payload is not a JSON object").With("part", "payload")
	}
	if d.More() {
		return malformed("trailing data after the payload object").With("part", "payload")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"jti", &p.JTI}, {"htm", &p.HTM}, {"htu", &p.HTU}} {
		v, ok := str(c, f.name)
		if !ok || v == "" {
			return malformed("claim %s is missing, empty or not a string", f.name).With("claim", f.name)
		}
		if len(v) > maxClaimLen {
			return malformed("claim %s is %d bytes, the limit is %d", f.name, len(v), maxClaimLen).With("claim", f.name)
		}
		*f.dst = v
	}
	raw, ok := c["iat"]
	if !ok {
		return malformed("claim iat is missing").With("claim", "iat")
	}
	var n json.Number
	// json.Number would also take a quoted "1700000000": a NumericDate is
	// a JSON number (RFC 7519 §2).
	if err := json.Unmarshal(raw, &n); err != nil || len(raw) == 0 || raw[0] == '"' {
		return malformed("claim iat is not a NumericDate (a JSON number)").With("claim", "iat")
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 253402300799 { // 9999-12-31
		return malformed("claim iat is out of range").With("claim", "iat")
	}
	p.IssuedAt = time.Unix(0, 0).Add(time.Duration(f * float64(time.Second)))
	for _, f := range []struct {
		name string
		dst  *string
		has  *bool
	}{{"ath", &p.ATH, &p.HasATH}, {"nonce", &p.Nonce, &p.HasNonce}} {
		if _, present := c[f.name]; !present {
			continue
		}
		v, ok := str(c, f.name)
		if !ok || len(v) > maxClaimLen {
			return malformed("claim %s is not a string of at most %d bytes", f.name, maxClaimLen).With("claim", f.name)
		}
		*f.dst, *f.has = v, true
	}
	return nil
}

func decode(seg, part string) ([]byte, error) {
	if seg == "" {
		return nil, malformed("%s segment is empty", part).With("part", part)
	}
	b, err := segmentEncoding.DecodeString(seg)
	if err != nil {
		return nil, malformed("%s segment is not base64url", part).With("part", part)
	}
	return b, nil
}

// str reads a string member; ok is false when absent or not a string.
func str(m map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := m[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func malformed(format string, args ...any) *errcode.Error {
	return errcode.New(errcode.DPoPProofMalformed, format, args...)
}

func keyInvalid(format string, args ...any) *errcode.Error {
	return errcode.New(errcode.DPoPKeyInvalid, format, args...)
}

// clip bounds client-chosen strings echoed into log fields.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
