package gateway

import "unicode/utf8"

// HeaderValue returns v when it can be sent as an upstream header value
// exactly as it is, and "" (which removes the header) otherwise. Every
// header value that comes from a token, a provider's answer, a Kong entity
// or a credentials file goes through it (accept applies it to every
// header a plugin sets).
//
// Refused: control characters other than HTAB (RFC 9110 §5.5: field-value
// is VCHAR, SP, HTAB and obs-text; CR and LF would split the header) and
// DEL, and bytes that are not UTF-8. A value is never altered, only
// dropped: removing a CR from "alice\r" would turn it into "alice", someone
// else's identity, and Kong itself would forward "alice%0D" (lua-nginx
// escapes control characters, seen in Kong 3.9.3). Invalid UTF-8 would not
// even reach Kong: go-pdk cannot encode it (proto3 strings must be UTF-8),
// writes half a call and desynchronises the plugin socket, and Kong 3.9.3
// then retries the event without end (pb_rpc.lua handle_event on "closed").
func HeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return ""
		}
	}
	if !utf8.ValidString(v) {
		return ""
	}
	return v
}
