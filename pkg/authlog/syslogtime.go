package authlog

import "time"

// syslogStamp is the time journalctl's default (short) output and classic
// syslog print: no year, no zone (time.Stamp, "Nov  7 10:00:00").
const syslogStamp = time.Stamp

// cutSyslogTime reads a syslog stamp followed by a space. The stamp has no
// year, so it is given the year that puts it at most one day after the
// parser's now: a log read in January that shows "Dec 31" is from last
// year, while a day of slack tolerates clocks and zones that disagree a
// little. Logs older than a year therefore get a wrong year; pass
// `journalctl -o short-iso` for those (it carries the year and the zone).
// The stamp is read in the parser's Location, like nginx's.
func (p Parser) cutSyslogTime(line []byte) (time.Time, []byte, bool) {
	n := len(syslogStamp)
	if len(line) <= n || line[n] != ' ' || line[3] != ' ' {
		return time.Time{}, line, false
	}
	t, err := time.ParseInLocation(syslogStamp, string(line[:n]), p.location())
	if err != nil {
		return time.Time{}, line, false
	}
	now := p.now().In(p.location())
	at := func(year int) time.Time {
		return time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, p.location())
	}
	t = at(now.Year())
	if t.After(now.Add(24 * time.Hour)) {
		t = at(now.Year() - 1)
	}
	return t, line[n+1:], true
}

func (p Parser) location() *time.Location {
	if p.Location == nil {
		return time.Local
	}
	return p.Location
}

func (p Parser) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}
