// Package defaultstest proves, for a plugin's config package, that each
// documented default (the field's `default` tag, which the README tables
// and Kong's schema show) is what a compiled config applies.
package defaultstest

import (
	"sort"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// Applied checks one field: whether the compiled config applies want.
type Applied func(want any) bool

// Check fails t unless every field of cfg that declares a default has an
// entry in applied that accepts it, and every entry names such a field:
// a new defaulted field needs a check.
func Check(t testing.TB, cfg any, applied map[string]Applied) {
	t.Helper()
	defaults, err := kongschema.Defaults(cfg)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(defaults))
	for name := range defaults {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := defaults[name]
		check, ok := applied[name]
		switch {
		case !ok:
			t.Errorf("%s: documented default %#v is not checked: add a check", name, want)
		case !check(want):
			t.Errorf("%s: the compiled config does not apply the documented default %#v", name, want)
		}
	}
	for name := range applied {
		if _, ok := defaults[name]; !ok {
			t.Errorf("%s: checked, but the config declares no default for it", name)
		}
	}
}
