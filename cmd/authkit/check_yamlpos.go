package main

// YAML positions for `authkit check`: sigs.k8s.io/yaml drops line numbers,
// so this reads just enough of YAML's block structure to point a problem at
// its line.

import (
	"regexp"
	"strconv"
	"strings"
)

// --- positions -------------------------------------------------------
//
// sigs.k8s.io/yaml (the only YAML library in go.mod) discards positions, so
// line numbers come from a small reader of YAML's block structure: block
// mappings and sequences, with flow collections, block scalars and
// multi-line scalars treated as opaque values. It only ever answers "where
// does this path start"; anything it does not follow resolves to the
// nearest enclosing node it did.

type yamlDoc struct {
	text  string
	first int // line number of the document's first line
	root  *posNode
}

type posNode struct {
	line  int
	keys  map[string]*posNode
	items []*posNode
}

// lineOf returns the line of path (keys and indexes), or of its deepest
// ancestor the reader located; 0 when nothing is known.
func (d *yamlDoc) lineOf(path []any) int {
	n := d.root
	if n == nil {
		return d.first
	}
	line := n.line
	for _, seg := range path {
		var next *posNode
		switch s := seg.(type) {
		case string:
			next = n.keys[s]
		case int:
			if s >= 0 && s < len(n.items) {
				next = n.items[s]
			}
		}
		if next == nil {
			break
		}
		n, line = next, next.line
	}
	return line
}

var docSepRE = regexp.MustCompile(`^(---|\.\.\.)(\s.*)?$`)

// splitYAMLDocs splits a multi-document stream at its "---" lines.
func splitYAMLDocs(data []byte) []*yamlDoc {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var docs []*yamlDoc
	start := 0
	flush := func(end int) {
		text := strings.Join(lines[start:end], "\n")
		if strings.TrimSpace(stripComments(text)) != "" {
			d := &yamlDoc{text: text, first: start + 1}
			d.root = parsePositions(lines[start:end], start+1)
			docs = append(docs, d)
		}
	}
	for i, l := range lines {
		if docSepRE.MatchString(l) {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	return docs
}

func stripComments(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "%") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

type srcLine struct {
	n, ind int
	text   string
}

func parsePositions(raw []string, first int) *posNode {
	var ls []srcLine
	for i, l := range raw {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "%") {
			continue
		}
		ls = append(ls, srcLine{n: first + i, ind: len(l) - len(t), text: strings.TrimRight(t, " \t")})
	}
	if len(ls) == 0 {
		return nil
	}
	p := &posParser{ls: ls}
	n, _ := p.node(0, -1)
	return n
}

type posParser struct{ ls []srcLine }

func isSeqItem(t string) bool { return t == "-" || strings.HasPrefix(t, "- ") }

// splitKey reads "key: rest" (plain or quoted key).
func splitKey(t string) (key, rest string, ok bool) {
	if t == "" || strings.ContainsRune("-[{#|>?!&*", rune(t[0])) && !(t[0] == '-' && !isSeqItem(t)) {
		return "", "", false
	}
	end := -1
	switch t[0] {
	case '"', '\'':
		q := t[0]
		for i := 1; i < len(t); i++ {
			if q == '"' && t[i] == '\\' {
				i++
				continue
			}
			if t[i] == q {
				if q == '\'' && i+1 < len(t) && t[i+1] == '\'' {
					i++
					continue
				}
				end = i + 1
				break
			}
		}
		if end < 0 {
			return "", "", false
		}
		key = t[1 : end-1]
		if q == '\'' {
			key = strings.ReplaceAll(key, "''", "'")
		} else if uq, err := strconv.Unquote(t[:end]); err == nil {
			key = uq
		}
		t2 := strings.TrimLeft(t[end:], " ")
		if t2 != ":" && !strings.HasPrefix(t2, ": ") {
			return "", "", false
		}
		return key, strings.TrimSpace(t2[1:]), true
	}
	if i := strings.Index(t, ": "); i > 0 && !strings.Contains(t[:i], " #") {
		return strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+2:]), true
	}
	if strings.HasSuffix(t, ":") && !strings.Contains(t, " #") {
		return strings.TrimSpace(t[:len(t)-1]), "", true
	}
	return "", "", false
}

// valueKind classifies what follows "key:" or "- ": nothing (a nested
// block follows), a block scalar, or an inline value.
func valueKind(rest string) string {
	if i := strings.Index(rest, " #"); i >= 0 {
		rest = strings.TrimSpace(rest[:i])
	}
	if strings.HasPrefix(rest, "#") {
		rest = ""
	}
	// An anchor or tag alone: the value is the nested block.
	for _, f := range strings.Fields(rest) {
		if f[0] == '&' || f[0] == '!' {
			rest = strings.TrimSpace(strings.TrimPrefix(rest, f))
		}
	}
	switch {
	case rest == "":
		return "nested"
	case rest[0] == '|' || rest[0] == '>':
		return "block"
	}
	return "inline"
}

// skipDeeper returns the first line at i or after that is not indented
// more than ind.
func (p *posParser) skipDeeper(i, ind int) int {
	for i < len(p.ls) && p.ls[i].ind > ind {
		i++
	}
	return i
}

// node reads the node starting at line i, indented more than parent.
func (p *posParser) node(i, parent int) (*posNode, int) {
	l := p.ls[i]
	if isSeqItem(l.text) {
		return p.seq(i, l.ind)
	}
	if _, _, ok := splitKey(l.text); ok {
		return p.mapping(i, l.ind)
	}
	return &posNode{line: l.n}, p.skipDeeper(i+1, parent)
}

func (p *posParser) seq(i, ind int) (*posNode, int) {
	n := &posNode{line: p.ls[i].n}
	for i < len(p.ls) && p.ls[i].ind == ind && isSeqItem(p.ls[i].text) {
		l := p.ls[i]
		rest := strings.TrimLeft(l.text[1:], " ")
		var child *posNode
		switch valueKind(rest) {
		case "nested":
			i++
			if i < len(p.ls) && p.ls[i].ind > ind {
				child, i = p.node(i, ind)
			} else {
				child = &posNode{}
			}
		case "block":
			child, i = &posNode{}, p.skipDeeper(i+1, ind)
		default:
			// "- key: v" or "- - x": the item's content starts at rest's column.
			p.ls[i] = srcLine{n: l.n, ind: l.ind + len(l.text) - len(rest), text: rest}
			child, i = p.node(i, ind)
		}
		child.line = l.n
		n.items = append(n.items, child)
	}
	return n, i
}

func (p *posParser) mapping(i, ind int) (*posNode, int) {
	n := &posNode{line: p.ls[i].n, keys: map[string]*posNode{}}
	for i < len(p.ls) && p.ls[i].ind == ind {
		l := p.ls[i]
		key, rest, ok := splitKey(l.text)
		if !ok {
			break
		}
		i++
		var child *posNode
		switch valueKind(rest) {
		case "nested":
			switch {
			case i < len(p.ls) && p.ls[i].ind > ind:
				child, i = p.node(i, ind)
			case i < len(p.ls) && p.ls[i].ind == ind && isSeqItem(p.ls[i].text):
				child, i = p.seq(i, ind) // "key:\n- a": a sequence may sit at the key's indent
			default:
				child = &posNode{}
			}
		default:
			child, i = &posNode{}, p.skipDeeper(i, ind)
		}
		child.line = l.n
		n.keys[key] = child
	}
	return n, i
}
