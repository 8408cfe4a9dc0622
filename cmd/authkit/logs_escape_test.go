package main

import "testing"

func TestEsc(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"authkit-basic":          "authkit-basic",
		"\x1b[2J":                `\x1b[2J`,
		"a\nb\rc\td":             `a\x0ab\x0dc\x09d`,
		"\x7f\x00":               `\x7f\x00`,
		"bad \xff utf8":          `bad \xff utf8`,
		"ünïcødé ok":             "ünïcødé ok",
		"rtl \u202eevil":         `rtl \u202eevil`,
		"c1 \u009b2J":            `c1 \u009b2J`,
		`back\slash`:             `back\\slash`,
		`forged \x1b`:            `forged \\x1b`,
		"zero\u200bwidth":        `zero\u200bwidth`,
		"tag \U000e0041 private": `tag \U000e0041 private`,
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}
