package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// promqlRefs is what a PromQL expression refers to: the metric names of
// its selectors, the label names each selector matches on, and the label
// names of its by/without/on/ignoring/group_* clauses. It is a tokenizer,
// not a parser: enough to catch a misspelt metric or label in a
// dashboard, with no dependency on Prometheus itself.
type promqlRefs struct {
	metrics  []string
	matchers map[string][]string // metric → label names in its {…}
	grouping []string
}

// PromQL keywords that are not metric names: aggregation modifiers,
// binary operators and vector matching.
var promqlKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"offset": true, "bool": true, "and": true, "or": true, "unless": true, "atan2": true,
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func nextIdent(s string) string {
	j := 0
	for j < len(s) && isIdent(s[j]) {
		j++
	}
	return s[:j]
}

func parsePromQL(expr string) (promqlRefs, error) {
	r := promqlRefs{matchers: map[string][]string{}}
	i, n := 0, len(expr)
	skipSpace := func() {
		for i < n && strings.ContainsRune(" \t\r\n", rune(expr[i])) {
			i++
		}
	}
	skipString := func() error {
		q := expr[i]
		for i++; i < n; i++ {
			if expr[i] == '\\' && q != '`' {
				i++
				continue
			}
			if expr[i] == q {
				i++
				return nil
			}
		}
		return fmt.Errorf("unterminated string in %q", expr)
	}
	ident := func() string {
		start := i
		for i < n && isIdent(expr[i]) {
			i++
		}
		return expr[start:i]
	}
	// labelList reads "(a, b)" after a grouping keyword.
	labelList := func() error {
		skipSpace()
		if i >= n || expr[i] != '(' {
			return fmt.Errorf("want ( after a grouping keyword at %d in %q", i, expr)
		}
		i++
		for {
			skipSpace()
			if i < n && expr[i] == ')' {
				i++
				return nil
			}
			if i >= n || !isIdentStart(expr[i]) {
				return fmt.Errorf("want a label name at %d in %q", i, expr)
			}
			r.grouping = append(r.grouping, ident())
			skipSpace()
			if i < n && expr[i] == ',' {
				i++
			}
		}
	}
	// selector reads "{name op "value", …}" for metric.
	selector := func(metric string) error {
		i++ // {
		for {
			skipSpace()
			if i < n && expr[i] == '}' {
				i++
				return nil
			}
			if i >= n || !isIdentStart(expr[i]) {
				return fmt.Errorf("want a label matcher at %d in %q", i, expr)
			}
			r.matchers[metric] = append(r.matchers[metric], ident())
			skipSpace()
			for i < n && strings.ContainsRune("=!~", rune(expr[i])) {
				i++
			}
			skipSpace()
			if i >= n || !strings.ContainsRune("\"'`", rune(expr[i])) {
				return fmt.Errorf("want a quoted label value at %d in %q", i, expr)
			}
			if err := skipString(); err != nil {
				return err
			}
			skipSpace()
			if i < n && expr[i] == ',' {
				i++
			}
		}
	}
	for i < n {
		c := expr[i]
		switch {
		case strings.ContainsRune(" \t\r\n(),+-*/^%<>=!", rune(c)):
			i++
		case c == '"' || c == '\'' || c == '`':
			if err := skipString(); err != nil {
				return r, err
			}
		case c == '[': // a range or subquery: durations and Grafana variables
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return r, fmt.Errorf("unterminated [ in %q", expr)
			}
			i += end + 1
		case c == '$': // a Grafana variable: $x, ${x}, $__rate_interval
			i++
			if i < n && expr[i] == '{' {
				end := strings.IndexByte(expr[i:], '}')
				if end < 0 {
					return r, fmt.Errorf("unterminated ${ in %q", expr)
				}
				i += end + 1
			} else {
				ident()
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < n && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case c == '{': // a selector without a metric name
			if err := selector(""); err != nil {
				return r, err
			}
		case isIdentStart(c):
			name := ident()
			skipSpace()
			switch {
			case name == "by" || name == "without" || name == "on" || name == "ignoring" ||
				(name == "group_left" || name == "group_right") && i < n && expr[i] == '(':
				if err := labelList(); err != nil {
					return r, err
				}
			case promqlKeywords[name]:
			case i < n && expr[i] == '(': // a function or an aggregation
			case nextIdent(expr[i:]) == "by" || nextIdent(expr[i:]) == "without":
				// An aggregation with its clause first: sum by (x) (…).
			default:
				r.metrics = append(r.metrics, name)
				if i < n && expr[i] == '{' {
					if err := selector(name); err != nil {
						return r, err
					}
				}
			}
		default:
			return r, fmt.Errorf("unexpected %q at %d in %q", c, i, expr)
		}
	}
	return r, nil
}

func TestParsePromQL(t *testing.T) {
	r, err := parsePromQL(`histogram_quantile(0.99, sum by (le, endpoint) (rate(authkit_provider_request_duration_seconds_bucket{plugin=~"$plugin", code!="a}b"}[$__rate_interval]))) / on(endpoint) group_left(x) up offset 5m`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.metrics, []string{"authkit_provider_request_duration_seconds_bucket", "up"}) {
		t.Errorf("metrics %v", r.metrics)
	}
	if !slices.Equal(r.matchers["authkit_provider_request_duration_seconds_bucket"], []string{"plugin", "code"}) {
		t.Errorf("matchers %v", r.matchers)
	}
	if !slices.Equal(r.grouping, []string{"le", "endpoint", "endpoint", "x"}) {
		t.Errorf("grouping %v", r.grouping)
	}
	r, err = parsePromQL(`sum(rate(authkit_decisions_total[5m])) by (code) > bool 0 or vector(0)`)
	if err != nil || !slices.Equal(r.metrics, []string{"authkit_decisions_total"}) || !slices.Equal(r.grouping, []string{"code"}) {
		t.Errorf("%v %v", r, err)
	}
	for _, bad := range []string{`sum by code (x)`, `x{a="b}`, `x{a}`, `rate(x[5m)`} {
		if _, err := parsePromQL(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
