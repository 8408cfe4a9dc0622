package provider

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// excerptMax is the most runes an excerpt keeps: enough to recognise a
	// proxy's error page or an OAuth error object, short enough for a log line.
	excerptMax = 120
	// excerptScan bounds the work done on a large body: redaction shrinks
	// tokens, so more than excerptMax is scanned, but not the whole body.
	excerptScan = 1024
	redacted    = "[redacted]"
)

var (
	// secretMember finds the value of a member whose name says it holds a
	// credential, in JSON ("password": "…") or form/query (code=…) syntax.
	// \b stops "code" matching inside "error_code".
	secretMember = regexp.MustCompile(`(?i)\b(access_token|refresh_token|id_token|client_secret|password|code|token)("?\s*[:=]\s*)("(?:[^"\\]|\\.)*"?|[^\s&,;}\]"]+)`)
	// authScheme finds an RFC 7235 token68 credential after an auth scheme
	// echoed back (an auth-param such as realm="x" is left alone).
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/-]+=*)`)
	// jwtShape is a compact JWS/JWE (RFC 7515 §7.1): base64url segments
	// joined by dots. A JSON header starts with "eyJ"; otherwise two long
	// segments are required so that host names and versions survive.
	jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`)
	// b64Run is a run of base64url characters; runs of 20 or more that mix
	// character classes (see secretLooking) are opaque tokens, secrets or
	// hashes.
	b64Run = regexp.MustCompile(`[A-Za-z0-9_-]{20,}`)
	// numeric values of secret-named JSON members (e.g. "code": 400) are
	// status codes, not credentials.
	numeric = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// Excerpt returns at most ~120 printable characters of a provider's body
// for the operator log, with anything token-like replaced by "[redacted]":
// compact JWTs, long base64url runs (≥ 20 characters mixing letter cases or
// digits), credentials after Bearer/Basic, and the values of members named
// access_token, refresh_token, id_token, client_secret, password, code or
// token. Provider error pages echo requests back; the log must never become
// a token store.
func Excerpt(body []byte) string {
	if len(body) > excerptScan {
		body = body[:excerptScan]
	}
	s := printable(body)
	s = redactMembers(s)
	s = redactCredentials(s)
	if strings.Contains(s, ".") {
		s = jwtShape.ReplaceAllString(s, redacted)
	}
	s = b64Run.ReplaceAllStringFunc(s, func(run string) string {
		if secretLooking(run) {
			return redacted
		}
		return run
	})
	return truncate(s, excerptMax)
}

// printable maps control characters, invalid UTF-8 and other non-printable
// runes to spaces and collapses whitespace, so that a body cannot forge log
// lines. It runs before redaction: deleting a character could join two
// harmless runs into a token-shaped one.
func printable(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	space := false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(r)
	}
	return sb.String()
}

// secretNames prefilters redactMembers: the regexp is the costly step.
var secretNames = []string{"token", "code", "password", "secret"}

func redactMembers(s string) string {
	lower := strings.ToLower(s)
	if !slices.ContainsFunc(secretNames, func(n string) bool { return strings.Contains(lower, n) }) {
		return s
	}
	idx := secretMember.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var sb strings.Builder
	last := 0
	for _, m := range idx {
		sep, val := s[m[4]:m[5]], s[m[6]:m[7]]
		if strings.Contains(sep, ":") && numeric.MatchString(val) {
			continue
		}
		sb.WriteString(s[last:m[6]])
		if strings.HasPrefix(val, `"`) {
			sb.WriteString(`"` + redacted + `"`)
		} else {
			sb.WriteString(redacted)
		}
		last = m[7]
	}
	sb.WriteString(s[last:])
	return sb.String()
}

func redactCredentials(s string) string {
	idx := authScheme.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var sb strings.Builder
	last := 0
	for _, m := range idx {
		val := s[m[6]:m[7]]
		if m[7] < len(s) && (s[m[7]] == '=' || s[m[7]] == '"' || isB64(s[m[7]])) {
			continue // an auth-param (realm="…") or a cut-off match
		}
		if len(val) < 8 || !(secretLooking(val) || strings.ContainsAny(val, "0123456789+/=._~-")) {
			continue // a word: "Basic authentication required"
		}
		sb.WriteString(s[last:m[6]])
		sb.WriteString(redacted)
		last = m[7]
	}
	sb.WriteString(s[last:])
	return sb.String()
}

func isB64(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// secretLooking reports whether a base64url run mixes at least two of
// lower case, upper case and digits, as random tokens do; identifiers such
// as "invalid_client_credentials" do not.
func secretLooking(run string) bool {
	var lower, upper, digit int
	for i := 0; i < len(run); i++ {
		switch c := run[i]; {
		case 'a' <= c && c <= 'z':
			lower = 1
		case 'A' <= c && c <= 'Z':
			upper = 1
		case '0' <= c && c <= '9':
			digit = 1
		}
	}
	return lower+upper+digit >= 2
}

// tokenLike is the property Excerpt guarantees its output lacks (fuzzed).
func tokenLike(s string) bool {
	if jwtShape.MatchString(s) {
		return true
	}
	for _, run := range b64Run.FindAllString(s, -1) {
		if secretLooking(run) {
			return true
		}
	}
	return false
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
