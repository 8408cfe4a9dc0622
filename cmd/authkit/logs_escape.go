package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// esc makes a value read from a log safe to print on a terminal. Every field
// of a log line can be chosen by whoever wrote it (a client's header, a
// consumer name, another plugin): an ESC sequence printed raw can clear the
// operator's screen, rewrite earlier lines or set the window title, and a
// bidi override can reorder what is shown. Control characters, invalid
// UTF-8 and non-printable runes are written as Go escapes (\x1b, \u202e);
// a backslash is doubled so an escape cannot be forged. Printable text,
// including non-ASCII letters, is kept.
func esc(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r < utf8.RuneSelf && (r < ' ' || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isPlain is the fast path: printable ASCII without a backslash.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
