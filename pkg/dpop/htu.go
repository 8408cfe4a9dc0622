package dpop

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// NormalizeURI returns the form of an http(s) URI that htu is compared in
// (RFC 9449 §4.3 (9)): without query and fragment, after syntax-based
// (RFC 3986 §6.2.2) and scheme-based (§6.2.3) normalisation:
//
//   - scheme and host in lower case (§6.2.2.1);
//   - percent-encodings with upper-case hex digits, and those of
//     unreserved characters decoded (§6.2.2.1, §6.2.2.2);
//   - dot segments removed (§6.2.2.3, the algorithm of §5.2.4);
//   - the default port (80 for http, 443 for https) and an empty port
//     dropped, an empty path made "/" (§6.2.3).
//
// Nothing else is changed: "//" stays two segments and a trailing slash
// stays, since servers may tell those paths apart (Kong's own get_path
// merges slashes, which is why the raw request path is used). Userinfo is
// refused: an htu naming credentials is no request URI.
func NormalizeURI(raw string) (string, error) {
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", errors.New("not an http or https URI")
	}
	if u.User != nil || u.Opaque != "" {
		return "", errors.New("userinfo or an opaque part is not allowed")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", errors.New("no host")
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", errors.New("bad port")
		}
		port = strconv.Itoa(n) // leading zeros are no other port
	}
	return BuildURI(scheme, host, port, u.EscapedPath()), nil
}

// BuildURI assembles a normalised URI from a request's parts: scheme and
// host as Kong reports them (get_forwarded_scheme, get_forwarded_host:
// lower-cased, without port), the port as a decimal string ("" for none)
// and the raw path (no query).
func BuildURI(scheme, host, port, rawPath string) string {
	scheme = strings.ToLower(scheme)
	host = strings.ToLower(host)
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.IndexByte(host, ':') >= 0 && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // an IPv6 literal (RFC 3986 §3.2.2)
	}
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + 6 + len(rawPath))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(normalizePath(rawPath))
	return b.String()
}

// RequestPath returns the path of a request target as nginx's
// $request_uri holds it (origin form "/p?q", or absolute form
// "http://h/p?q"), without the query.
func RequestPath(requestURI string) string {
	if i := strings.IndexByte(requestURI, '?'); i >= 0 {
		requestURI = requestURI[:i]
	}
	if strings.HasPrefix(requestURI, "/") {
		return requestURI
	}
	if u, err := url.Parse(requestURI); err == nil && u.Host != "" {
		return u.EscapedPath()
	}
	return requestURI
}

// normalizePath applies RFC 3986 §6.2.2.1, §6.2.2.2 and §6.2.2.3 to a raw
// path; "" becomes "/" (§6.2.3).
func normalizePath(p string) string {
	if strings.IndexByte(p, '%') >= 0 {
		var b strings.Builder
		b.Grow(len(p))
		for i := 0; i < len(p); i++ {
			c := p[i]
			if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
				v := unhex(p[i+1])<<4 | unhex(p[i+2])
				if unreserved(v) {
					b.WriteByte(v)
				} else {
					b.WriteByte('%')
					b.WriteByte(upperHex[v>>4])
					b.WriteByte(upperHex[v&15])
				}
				i += 2
				continue
			}
			b.WriteByte(c)
		}
		p = b.String()
	}
	if strings.Contains(p, ".") {
		p = removeDotSegments(p)
	}
	if p == "" {
		return "/"
	}
	return p
}

// removeDotSegments is RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	var out []string // output segments, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			j := strings.IndexByte(in[1:], '/')
			if j < 0 {
				out = append(out, in)
				in = ""
			} else {
				out = append(out, in[:j+1])
				in = in[j+1:]
			}
		}
	}
	return strings.Join(out, "")
}

const upperHex = "0123456789ABCDEF"

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

// unreserved is RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
