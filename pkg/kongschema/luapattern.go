package kongschema

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Kong's match validators use Lua patterns (string.match). Go has no Lua
// pattern engine; LuaPattern translates the regular subset of the syntax
// to an RE2 expression that matches exactly the same strings:
//
//   - anchors ^ (first) and $ (last);
//   - . and the classes %a %c %d %g %l %p %s %u %w %x (ASCII, the C locale
//     Kong runs in) and their complements %A … %X;
//   - %<punctuation> for a literal, and sets [...] with ranges, classes and
//     a leading ^;
//   - the quantifiers *, +, ? and - (lazy *) after a single character class.
//
// Captures, %b, %f and back references have no RE2 equivalent and are
// refused, so a schema can only use patterns the plugin checks the same
// way Kong does.

var luaClasses = map[byte]string{
	'a': `A-Za-z`,
	'c': `\x00-\x1f\x7f`,
	'd': `0-9`,
	'g': `\x21-\x7e`,
	'l': `a-z`,
	'p': `!-/:-@\[-` + "`" + `{-~`,
	's': `\t\n\v\f\r `,
	'u': `A-Z`,
	'w': `0-9A-Za-z`,
	'x': `0-9A-Fa-f`,
}

// LuaPattern returns the RE2 expression equivalent to the Lua pattern p.
func LuaPattern(p string) (string, error) {
	var b strings.Builder
	b.WriteString("(?s)")
	i := 0
	if strings.HasPrefix(p, "^") {
		b.WriteString("^")
		i = 1
	}
	for i < len(p) {
		if p[i] == '$' && i == len(p)-1 {
			b.WriteString(`\z`)
			i++
			continue
		}
		item, next, err := luaItem(p, i)
		if err != nil {
			return "", err
		}
		i = next
		if i < len(p) {
			switch p[i] {
			case '*', '+', '?':
				item += string(p[i])
				i++
			case '-':
				item += "*?"
				i++
			}
		}
		b.WriteString(item)
	}
	return b.String(), nil
}

// luaItem translates the single character class at p[i:].
func luaItem(p string, i int) (string, int, error) {
	switch c := p[i]; c {
	case '.':
		return ".", i + 1, nil
	case '%':
		if i+1 >= len(p) {
			return "", 0, fmt.Errorf("lua pattern %q: malformed (ends with '%%')", p)
		}
		cls, err := luaEscape(p, p[i+1], false)
		return cls, i + 2, err
	case '[':
		return luaSet(p, i)
	case '(', ')':
		return "", 0, fmt.Errorf("lua pattern %q: captures are not supported", p)
	default:
		return regexp.QuoteMeta(string(c)), i + 1, nil
	}
}

// luaEscape is %c: a class (bracketed unless inSet) or a literal.
func luaEscape(p string, c byte, inSet bool) (string, error) {
	lower := c | 0x20
	if cls, ok := luaClasses[lower]; ok {
		switch {
		case inSet && c == lower:
			return cls, nil
		case inSet:
			return "", fmt.Errorf("lua pattern %q: a complemented class %%%c inside a set is not supported", p, c)
		case c == lower:
			return "[" + cls + "]", nil
		default:
			return "[^" + cls + "]", nil
		}
	}
	if c >= '0' && c <= '9' || c == 'b' || c == 'f' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		return "", fmt.Errorf("lua pattern %q: %%%c is not supported", p, c)
	}
	q := regexp.QuoteMeta(string(c))
	if inSet && (c == '-' || c == '^' || c == ']' || c == '[') {
		q = `\` + string(c)
	}
	return q, nil
}

// luaSet translates [...] at p[i:] (Lua: a ']' right after '[' or '[^' is
// a literal).
func luaSet(p string, i int) (string, int, error) {
	var b strings.Builder
	b.WriteString("[")
	j := i + 1
	if j < len(p) && p[j] == '^' {
		b.WriteString("^")
		j++
	}
	first := true
	for {
		if j >= len(p) {
			return "", 0, fmt.Errorf("lua pattern %q: malformed (missing ']')", p)
		}
		c := p[j]
		switch {
		case c == ']' && !first:
			b.WriteString("]")
			return b.String(), j + 1, nil
		case c == '%':
			if j+1 >= len(p) {
				return "", 0, fmt.Errorf("lua pattern %q: malformed (ends with '%%')", p)
			}
			cls, err := luaEscape(p, p[j+1], true)
			if err != nil {
				return "", 0, err
			}
			b.WriteString(cls)
			j += 2
		case j+2 < len(p) && p[j+1] == '-' && p[j+2] != ']':
			b.WriteString(setChar(c) + "-" + setChar(p[j+2]))
			j += 3
		default:
			b.WriteString(setChar(c))
			j++
		}
		first = false
	}
}

func setChar(c byte) string {
	switch c {
	case '\\', ']', '[', '^', '-':
		return `\` + string(c)
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf(`\x%02x`, c)
	}
	return string(c)
}

var luaRegexps sync.Map // pattern → *regexp.Regexp | error

// luaMatch reports whether s matches the Lua pattern p (string.match).
func luaMatch(p, s string) (bool, error) {
	if v, ok := luaRegexps.Load(p); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re.MatchString(s), nil
		}
		return false, v.(error)
	}
	expr, err := LuaPattern(p)
	var re *regexp.Regexp
	if err == nil {
		re, err = regexp.Compile(expr)
	}
	if err != nil {
		luaRegexps.Store(p, err)
		return false, err
	}
	luaRegexps.Store(p, re)
	return re.MatchString(s), nil
}
