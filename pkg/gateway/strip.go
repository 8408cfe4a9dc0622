package gateway

import "strings"

// Credentials found in a query string, a form body or a Cookie header are
// read and removed (hide_credentials) by the parsers in this file and only
// by them. When reading and stripping parse differently, what the gateway
// authenticated is not what it removes, and a second credential that some
// other parser would see is silently ignored: a cookie sent as `at =<tok>`
// was read (net/http trims the name) but not stripped (an untrimmed
// comparison). Every plugin therefore goes through one splitter per
// format, and a part that carries the credential's name counts even when
// it cannot be decoded: the caller sees it and refuses it as malformed or
// as a duplicate, instead of an upstream finding it later.

// Param is one '&'-separated part of a query string or an
// application/x-www-form-urlencoded body.
type Param struct {
	// Name and Value are percent-decoded ('+' is a space). An invalid
	// escape is kept as sent, the way nginx's ngx.req.get_uri_args reads it.
	Name, Value string
	// Undecodable is set when the part has an invalid %-escape or a ';'
	// (which Go's net/url, and so Go providers, refuse).
	Undecodable bool
	// Raw is the part exactly as sent.
	Raw string
	// alias is a name that a ';'-splitting parser would see inside the
	// part (`x=1;apikey=k`).
	alias []string
}

// ParseParams splits a raw query string or form body into its parts, in
// order. Empty parts are skipped; a part without '=' has an empty value.
func ParseParams(raw string) []Param {
	var out []Param
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		name, ok1 := unescape(k)
		value, ok2 := unescape(v)
		p := Param{Name: name, Value: value, Raw: part, Undecodable: !ok1 || !ok2}
		if strings.Contains(part, ";") {
			// Legacy parsers (Python before 3.9.2, old PHP setups) split on
			// ';' too: the names they would see count as carried here.
			p.Undecodable = true
			for _, sub := range strings.Split(part, ";")[1:] {
				sk, _, _ := strings.Cut(sub, "=")
				if n, _ := unescape(sk); n != "" {
					p.alias = append(p.alias, n)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// Carries reports whether the part carries name: as its own name, or as a
// name a ';'-splitting parser would find in it.
func (p Param) Carries(name string) bool {
	if p.Name == name {
		return true
	}
	for _, a := range p.alias {
		if a == name {
			return true
		}
	}
	return false
}

// ParamValues returns the value of every part that carries name (nil when
// none does). A part that carries the name but cannot be decoded is
// returned too, as its decoded name matched (p.Value, invalid escapes kept)
// or, for a name only a ';'-splitting parser would find, as the raw part:
// the caller then refuses a malformed or repeated credential.
func ParamValues(raw, name string) []string {
	var out []string
	for _, p := range ParseParams(raw) {
		switch {
		case p.Name == name:
			out = append(out, p.Value)
		case p.Carries(name):
			out = append(out, p.Raw)
		}
	}
	return out
}

// StripQueryParam removes every part that carries name from a raw query
// string or form body (hide_credentials), leaving the other parts byte for
// byte as the client sent them.
func StripQueryParam(raw, name string) string {
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, part := range parts {
		if part != "" {
			if ps := ParseParams(part); len(ps) == 1 && ps[0].Carries(name) {
				continue
			}
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}

// unescape is url.QueryUnescape that keeps an invalid escape as sent
// instead of failing, and reports whether every escape was valid.
func unescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	ok := true
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '%':
			ok = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ok
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// ows is the whitespace trimmed around cookie parts, names and values:
// net/http's textproto.TrimString set (SP, HTAB, and CR, LF which nginx
// never lets into a header value anyway).
const ows = " \t\r\n"

// cookiePart is one ';'-separated part of a Cookie header.
type cookiePart struct {
	name, value string
	raw         string // trimmed, as sent
}

// parseCookies splits Cookie header lines into parts. Name and value are
// trimmed of optional whitespace (RFC 6265 §5.2 trims both; net/http trims
// the name), and a value in double quotes is unquoted (RFC 6265 §4.1.1
// cookie-value). Unlike net/http it keeps parts whose value has characters
// RFC 6265 forbids: such a part still carries its name.
func parseCookies(headers []string) []cookiePart {
	var out []cookiePart
	for _, h := range headers {
		for h != "" {
			var part string
			part, h, _ = strings.Cut(h, ";")
			part = strings.Trim(part, ows)
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			v = strings.Trim(v, ows)
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			out = append(out, cookiePart{name: strings.Trim(k, ows), value: v, raw: part})
		}
	}
	return out
}

// CookieValues returns every value of cookie name in the Cookie headers
// (nil when there is none), including values net/http would skip as
// invalid, so that a second or malformed token is refused, not ignored.
func CookieValues(headers []string, name string) []string {
	var out []string
	for _, c := range parseCookies(headers) {
		if c.name == name {
			out = append(out, c.value)
		}
	}
	return out
}

// StripCookie removes cookie name from Cookie headers, as CookieValues
// finds it, joined as one header value ("" when nothing is left, which
// removes the header).
func StripCookie(headers []string, name string) string {
	var kept []string
	for _, c := range parseCookies(headers) {
		if c.name != name {
			kept = append(kept, c.raw)
		}
	}
	return strings.Join(kept, "; ")
}
