package authlog

import (
	"bytes"
	"time"
)

// The wrappers log collectors put before Kong's own line, as they print it:
//
//	docker compose logs          kong-1  | 2026/11/27 10:00:00 [notice] …
//	docker compose logs -t       kong-1  | 2026-11-27T10:00:00.123456789Z 2026/11/27 10:00:00 [notice] …
//	docker logs -t               2026-11-27T10:00:00.123456789Z 2026/11/27 10:00:00 [notice] …
//	kubectl logs --prefix --timestamps
//	                             [pod/kong-7d9f/proxy] 2026-11-27T10:00:00.123456789Z 2026/11/27 10:00:00 [notice] …
//	journalctl (short)           Nov 27 10:00:00 gw1 kong[812]: 2026/11/27 10:00:00 [notice] …
//	journalctl -o short-iso      2026-11-27T10:00:00+0000 gw1 kong[812]: 2026/11/27 10:00:00 [notice] …
//
// unwrap removes one of each layer (a collector prefix, a timestamp, a
// syslog host and identifier) and returns what is left and the time the
// wrapper carried. exact reports a time with a zone offset (RFC 3339),
// which is better than nginx's own local time without one.
func (p Parser) unwrap(line []byte) (rest []byte, t time.Time, exact bool) {
	if r, ok := cutKubectlPrefix(line); ok {
		line = r
	} else if r, ok := cutComposePrefix(line); ok {
		line = r
	}
	if ts, r, ok := cutZonedTime(line); ok {
		line, t, exact = r, ts, true
	} else if ts, r, ok := p.cutSyslogTime(line); ok {
		if r, ok := cutSyslogSource(r); ok {
			return r, ts, false
		}
		return line, time.Time{}, false // a stamp without `host ident[pid]: ` is not journald
	}
	if exact {
		if r, ok := cutSyslogSource(line); ok {
			line = r // journalctl -o short-iso
		}
	}
	return line, t, exact
}

// cutKubectlPrefix removes kubectl's `[pod/NAME/CONTAINER] `.
func cutKubectlPrefix(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, []byte("[pod/")) {
		return line, false
	}
	end := bytes.Index(line, []byte("] "))
	if end < 0 || bytes.IndexByte(line[:end], ' ') >= 0 {
		return line, false
	}
	return line[end+2:], true
}

// cutComposePrefix removes Compose's `SERVICE-N  | ` (v1: `SERVICE_N  | `):
// a name, at least one space of padding, a bar and a space.
func cutComposePrefix(line []byte) ([]byte, bool) {
	i := 0
	for i < len(line) && i < 256 && isNameByte(line[i]) {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ' ' {
		return line, false
	}
	for i < len(line) && line[i] == ' ' {
		i++
	}
	if !bytes.HasPrefix(line[i:], []byte("| ")) && !bytes.Equal(line[i:], []byte("|")) {
		return line, false
	}
	return line[min(i+2, len(line)):], true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// cutZonedTime reads an RFC 3339 time (with or without fractional seconds,
// as Docker and kubectl write it) or journalctl's short-iso `+0000` form,
// followed by a space.
func cutZonedTime(line []byte) (time.Time, []byte, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < len("2006-01-02T15:04:05Z") || sp > len(time.RFC3339Nano)+2 || line[4] != '-' || line[10] != 'T' {
		return time.Time{}, line, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, string(line[:sp])); err == nil {
			return t, line[sp+1:], true
		}
	}
	return time.Time{}, line, false
}

// cutSyslogSource removes `host ident[pid]: ` (or `host ident: `), which
// follows the time in syslog and journalctl output.
func cutSyslogSource(line []byte) ([]byte, bool) {
	host := bytes.IndexByte(line, ' ')
	if host <= 0 || host > 255 {
		return line, false
	}
	rest := line[host+1:]
	colon := bytes.Index(rest, []byte(": "))
	if colon <= 0 || colon > 300 {
		return line, false
	}
	ident := rest[:colon]
	if bytes.IndexByte(ident, ' ') >= 0 {
		return line, false
	}
	if open := bytes.IndexByte(ident, '['); open >= 0 {
		pid := ident[open+1:]
		if len(pid) < 2 || pid[len(pid)-1] != ']' || !allDigits(pid[:len(pid)-1]) {
			return line, false
		}
	}
	return rest[colon+2:], true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
