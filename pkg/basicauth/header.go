// Package basicauth implements HTTP Basic authentication (RFC 7617) for the
// authkit-basic plugin: header parsing, the credential store of slow
// password hashes, the verified-password cache and the lockout counter.
package basicauth

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// Parse errors. All but ErrNoCredentials mean BASIC_MALFORMED.
var (
	ErrNoCredentials = errors.New("no Basic credentials")
	ErrNotBase64     = errors.New("credentials are not valid base64")
	ErrNoColon       = errors.New("decoded credentials have no colon")
	ErrEmptyUser     = errors.New("empty user-id")
	ErrNotUTF8       = errors.New("credentials are not valid UTF-8")
	ErrControlChar   = errors.New("credentials contain a control character")
	ErrTooLong       = errors.New("credentials too long")
)

// MaxHeaderLen bounds the Authorization value accepted (before decoding).
const MaxHeaderLen = 4096

// ParseHeader extracts user-id and password from an Authorization or
// Proxy-Authorization value. A value whose scheme is not Basic yields
// ErrNoCredentials (some other scheme is not ours to judge).
//
// RFC 7617 §2: credentials = "Basic" 1*SP token68, the token being
// base64(user-id ":" password); the user-id cannot contain a colon, and
// neither part may contain control characters. §2.1: with charset="UTF-8"
// the octets must be UTF-8, which is what this plugin announces.
func ParseHeader(v string) (user, pass string, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", "", ErrNoCredentials
	}
	scheme, rest, found := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Basic") { // RFC 7235 §2.1: scheme is case-insensitive
		return "", "", ErrNoCredentials
	}
	if !found {
		return "", "", ErrNotBase64
	}
	token := strings.TrimLeft(rest, " ")
	if len(token) > MaxHeaderLen {
		return "", "", ErrTooLong
	}
	if token == "" {
		return "", "", ErrNotBase64
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil {
		// Some clients omit the padding; accept it, nothing else.
		raw, err = base64.RawStdEncoding.Strict().DecodeString(token)
		if err != nil {
			return "", "", ErrNotBase64
		}
	}
	if !utf8.Valid(raw) {
		return "", "", ErrNotUTF8
	}
	s := string(raw)
	user, pass, found = strings.Cut(s, ":")
	if !found {
		return "", "", ErrNoColon
	}
	if user == "" {
		return "", "", ErrEmptyUser
	}
	if hasCTL(s) {
		return "", "", ErrControlChar
	}
	return user, pass, nil
}

// hasCTL reports a control character (RFC 5234 B.1 CTL: %x00-1F / %x7F).
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
