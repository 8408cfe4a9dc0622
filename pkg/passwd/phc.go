package passwd

import (
	"encoding/base64"
	"errors"
	"strings"
)

// Helpers shared by the PHC string format parsers (argon2id, pbkdf2-sha256).
// See https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md.

var errDecimal = errors.New("not a canonical decimal number")

// parseDecimal parses a PHC decimal value: ASCII digits only, no sign, no
// leading zeros, at most 10 digits (so the result always fits in int64 and
// the bounds checks afterwards see the real value).
func parseDecimal(s string) (int64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errDecimal
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errDecimal
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

var errBase64 = errors.New("invalid base64")

// decodeB64 decodes the PHC "B64" encoding: the standard alphabet without
// padding, as printed by the argon2 reference implementation. Correctly
// padded input is accepted too. Non-zero trailing bits are rejected so each
// byte string has exactly one accepted unpadded encoding.
func decodeB64(s string) ([]byte, error) {
	if s == "" {
		return nil, errBase64
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		// base64.Encoding silently skips '\r' and '\n'; refuse them (and
		// everything else outside the alphabet) explicitly.
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, errBase64
		}
	}
	enc := base64.RawStdEncoding.Strict()
	if strings.HasSuffix(s, "=") {
		enc = base64.StdEncoding.Strict()
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

func encodeB64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// decodeAB64 decodes passlib's "adapted base64": standard base64 with '.'
// instead of '+', normally unpadded.
func decodeAB64(s string) ([]byte, error) {
	if strings.IndexByte(s, '+') >= 0 {
		return nil, errBase64
	}
	return decodeB64(strings.ReplaceAll(s, ".", "+"))
}

func encodeAB64(b []byte) string { return strings.ReplaceAll(encodeB64(b), "+", ".") }
