// Package configdoc renders each plugin's configuration reference from the
// doc comments of its Config struct, so the README cannot drift from the
// code. `go generate ./internal/configdoc` rewrites the README sections
// between `<!-- BEGIN CONFIG <plugin> -->` and `<!-- END CONFIG <plugin> -->`;
// a test fails when they are stale.
package configdoc

//go:generate go run ./gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

// Sources maps each plugin to the file and package holding its Config.
var Sources = []struct{ Plugin, Dir string }{
	{"authkit-basic", "pkg/basicauth"},
	{"authkit-key", "pkg/apikey"},
	{"authkit-oauth", "pkg/oauth"},
	{"authkit-oauth-explain", "pkg/tokenexplain"},
}

// Row is one documented field. Default is rendered from the field's
// `default` tag (Tagged), the value the plugin applies; a field without
// one may describe a computed default at the end of its doc comment
// ("Default: [issuer].").
type Row struct {
	Path, Type, Default, Doc string
	Tagged                   bool
	// Checks are the rules Kong enforces on the field (from the
	// generated schema, kongschema.Generate).
	Checks string
}

// Shared lists the packages whose structs plugin configs embed as records
// (by package name, as a field's type spells it: redisstore.Config).
var Shared = map[string]string{"redisstore": "pkg/redisstore"}

// Rows parses the Go files of dir (relative to root) and documents the
// struct typeName, descending into struct-typed fields declared in the
// same package or in a Shared one.
func Rows(root, dir, typeName string) ([]Row, error) {
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	if err := parseStructs(fset, structs, filepath.Join(root, dir), ""); err != nil {
		return nil, err
	}
	for name, d := range Shared {
		if err := parseStructs(fset, structs, filepath.Join(root, d), name+"."); err != nil {
			return nil, err
		}
	}
	st, ok := structs[typeName]
	if !ok {
		return nil, fmt.Errorf("%s: no struct %s", dir, typeName)
	}
	return walkRows(structs, st), nil
}

// parseStructs adds the struct types declared in dir to structs, named
// with prefix.
func parseStructs(fset *token.FileSet, structs map[string]*ast.StructType, dir, prefix string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				ts, ok := s.(*ast.TypeSpec)
				if !ok {
					continue
				}
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[prefix+ts.Name.Name] = st
				}
			}
		}
	}
	return nil
}

func walkRows(structs map[string]*ast.StructType, st *ast.StructType) []Row {
	var rows []Row
	var walk func(prefix string, st *ast.StructType)
	walk = func(prefix string, st *ast.StructType) {
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 || !f.Names[0].IsExported() || f.Tag == nil {
				continue
			}
			tags := reflect.StructTag(strings.Trim(f.Tag.Value, "`"))
			tag := tags.Get("json")
			if tag == "" {
				continue
			}
			doc, def := splitDefault(strings.TrimSpace(f.Doc.Text()))
			doc = capitalize(strings.TrimPrefix(doc, f.Names[0].Name+" "))
			typ, elem := kongType(f.Type)
			row := Row{Path: prefix + tag, Type: typ, Default: def, Doc: oneLine(doc)}
			if lit, ok := tags.Lookup(kongschema.DefaultTag); ok {
				row.Tagged = true
				row.Default = renderDefault(typ, lit)
			}
			rows = append(rows, row)
			if inner, ok := structs[elem]; ok {
				sub := prefix + tag + "."
				if strings.HasPrefix(typ, "array") {
					sub = prefix + tag + "[]."
				}
				walk(sub, inner)
			}
		}
	}
	walk("", st)
	return rows
}

// renderDefault writes a `default` tag literal as the README shows it: JSON.
func renderDefault(typ, lit string) string {
	switch {
	case typ == "string":
		b, _ := json.Marshal(lit)
		return string(b)
	case strings.HasPrefix(typ, "array of "):
		if lit == "" {
			return "[]"
		}
		var items []any
		for _, s := range strings.Split(lit, ",") {
			if typ == "array of string" {
				items = append(items, s)
			} else {
				items = append(items, json.RawMessage(s))
			}
		}
		b, _ := json.Marshal(items)
		return string(b)
	case strings.HasPrefix(typ, "map "):
		return "{}"
	}
	return lit
}

func splitDefault(doc string) (string, string) {
	i := strings.LastIndex(doc, "Default: ")
	if i < 0 {
		return doc, ""
	}
	def := strings.TrimSpace(doc[i+len("Default: "):])
	def = strings.TrimSuffix(def, ".")
	return strings.TrimSpace(doc[:i]), def
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// kongType names the Kong schema type go-pdk emits for a Go type, and the
// element struct name for nested records.
func kongType(e ast.Expr) (string, string) {
	switch t := e.(type) {
	case *ast.StarExpr:
		return kongType(t.X)
	case *ast.ArrayType:
		in, elem := kongType(t.Elt)
		return "array of " + in, elem
	case *ast.MapType:
		k, _ := kongType(t.Key)
		v, _ := kongType(t.Value)
		return "map " + k + " → " + v, ""
	case *ast.Ident:
		switch t.Name {
		case "string":
			return "string", ""
		case "bool":
			return "boolean", ""
		case "int", "int32", "uint", "uint32":
			return "integer", ""
		case "float32", "float64":
			return "number", ""
		default:
			return "record", t.Name
		}
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok {
			return "record", x.Name + "." + t.Sel.Name
		}
		return "record", t.Sel.Name
	}
	return "?", ""
}

// Table renders rows as a Markdown table, and the record's entity checks
// (the rules across fields Kong enforces) below it.
func Table(rows []Row, schema *kongschema.Field) string {
	var b strings.Builder
	b.WriteString("| field | type | default | Kong checks | description |\n|---|---|---|---|---|\n")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	for _, r := range rows {
		def := r.Default
		if def == "" {
			def = "–"
		}
		checks := r.Checks
		if checks == "" {
			checks = "–"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Path, r.Type, esc(def), esc(checks), esc(r.Doc))
	}
	var rules []string
	if schema != nil {
		for _, c := range schema.EntityChecks {
			rules = append(rules, entityRule(c, ""))
		}
		for _, nf := range schema.Fields {
			for _, c := range nf.Field.EntityChecks {
				rules = append(rules, entityRule(c, nf.Name+"."))
			}
		}
	}
	if len(rules) > 0 {
		b.WriteString("\nAcross fields, Kong also refuses a config unless:\n\n")
		for _, r := range rules {
			b.WriteString("- " + r + "\n")
		}
	}
	return b.String()
}

// Checks describes the rules of field f for the README.
func Checks(f *kongschema.Field) string {
	var out []string
	if f.Required {
		out = append(out, "required (not null)")
	}
	if f.OneOf != nil {
		var vs []string
		for _, v := range f.OneOf {
			vs = append(vs, fmt.Sprint(v))
		}
		if len(vs) > 8 {
			out = append(out, fmt.Sprintf("one of %d values", len(vs)))
		} else {
			out = append(out, "one of "+strings.Join(vs, ", "))
		}
	}
	if f.Between != nil {
		if f.Between[1] == kongschema.MaxInt {
			out = append(out, fmt.Sprintf("≥ %d", f.Between[0]))
		} else {
			out = append(out, fmt.Sprintf("%d–%d", f.Between[0], f.Between[1]))
		}
	}
	switch {
	case f.OneOf != nil:
	case f.Type == "string" && f.LenMin == nil:
		out = append(out, "not empty")
	case f.LenMin != nil && *f.LenMin > 0:
		out = append(out, fmt.Sprintf("length ≥ %d", *f.LenMin))
	}
	for _, r := range append(append([]kongschema.MatchRule(nil), f.MatchAll...), f.MatchNone...) {
		if r.Err != "" && !slicesContains(out, r.Err) {
			out = append(out, r.Err)
		}
	}
	if f.MatchAny != nil && f.MatchAny.Err != "" {
		out = append(out, f.MatchAny.Err)
	}
	if f.Referenceable {
		out = append(out, "`{vault://…}` reference allowed")
	}
	for _, sub := range []struct {
		what string
		f    *kongschema.Field
	}{{"each element", f.Elements}, {"each value", f.Values}} {
		if sub.f != nil && sub.f.Type != "record" {
			if c := Checks(sub.f); c != "" {
				out = append(out, sub.what+": "+c)
			}
		}
	}
	return strings.Join(out, "; ")
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// entityRule describes an entity check of the record whose fields are
// named with prefix.
func entityRule(c kongschema.EntityCheck, prefix string) string {
	code := func(ns []string) string {
		q := make([]string, len(ns))
		for i, n := range ns {
			q[i] = "`" + prefix + n + "`"
		}
		return strings.Join(q, ", ")
	}
	switch {
	case c.AtLeastOneOf != nil:
		return "one of " + code(c.AtLeastOneOf) + " is set (non-empty)"
	case c.MutuallyRequired != nil:
		return "all or none of " + code(c.MutuallyRequired) + " are set"
	case c.MutuallyExclusive != nil:
		return "at most one of " + code(c.MutuallyExclusive) + " is set"
	case c.Conditional != nil:
		k := c.Conditional
		return fmt.Sprintf("`%s` %s when `%s` %s", prefix+k.ThenField, matchText(k.ThenMatch), prefix+k.IfField, matchText(k.IfMatch))
	case c.ConditionalAtLeastOneOf != nil:
		k := c.ConditionalAtLeastOneOf
		return fmt.Sprintf("one of %s is set when `%s` %s", code(k.ThenAtLeastOneOf), prefix+k.IfField, matchText(k.IfMatch))
	}
	return "?"
}

// matchText renders a conditional's match for the README.
func matchText(f *kongschema.Field) string {
	switch {
	case f == nil:
		return "is set"
	case f.Gt != nil:
		return fmt.Sprintf("is > %v", *f.Gt)
	case len(f.OneOf) == 1:
		return fmt.Sprintf("is %v", f.OneOf[0])
	case f.OneOf != nil:
		return fmt.Sprintf("is one of %v", f.OneOf)
	case f.Required:
		return "is set"
	}
	return "matches " + Checks(f)
}

// Render returns the README with every plugin's section and the error-code
// table regenerated.
func Render(root string, readme []byte) ([]byte, error) {
	out := readme
	var err error
	for _, s := range Sources {
		rows, err := Rows(root, s.Dir, "Config")
		if err != nil {
			return nil, err
		}
		p, ok := pluginreg.Lookup(s.Plugin)
		if !ok {
			return nil, fmt.Errorf("configdoc: no plugin %s", s.Plugin)
		}
		schema, err := kongschema.Generate(p.New())
		if err != nil {
			return nil, err
		}
		for i := range rows {
			f := schema.Lookup(strings.Split(strings.ReplaceAll(rows[i].Path, "[].", "."), ".")...)
			if f == nil {
				return nil, fmt.Errorf("configdoc: %s: %s is not in the generated schema", s.Plugin, rows[i].Path)
			}
			rows[i].Checks = Checks(f)
		}
		if out, err = replaceSection(out, "CONFIG "+s.Plugin, Table(rows, schema)); err != nil {
			return nil, err
		}
	}
	if out, err = replaceSection(out, "ERROR CODES", ErrorTable()); err != nil {
		return nil, err
	}
	return out, nil
}

func replaceSection(doc []byte, name, content string) ([]byte, error) {
	begin := []byte("<!-- BEGIN " + name + " -->\n")
	end := []byte("<!-- END " + name + " -->")
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	if i < 0 || j < i {
		return nil, fmt.Errorf("README has no %q … %q section", strings.TrimSpace(string(begin)), end)
	}
	var nb bytes.Buffer
	nb.Write(doc[:i+len(begin)])
	nb.WriteString(content)
	nb.Write(doc[j:])
	return nb.Bytes(), nil
}

// ErrorTable renders the catalog (pkg/errcode) as the README's table.
func ErrorTable() string {
	var b strings.Builder
	b.WriteString("| code | status | RFC error | client message |\n|---|---|---|---|\n")
	for _, e := range errcode.All() {
		rfc := e.BearerError
		if rfc == "" {
			rfc = "–"
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s |\n", e.Code, e.Status, rfc, e.Message)
	}
	return b.String()
}

// Update rewrites root/README.md.
func Update(root string) error {
	path := filepath.Join(root, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := Render(root, readme)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
