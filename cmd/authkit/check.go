package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
	"github.com/kong-authkit/kong-authkit/pkg/pluginreg"
)

func newCheckCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate the authkit plugin entries of a declarative Kong config offline",
		Long: "check reads a DB-less Kong config (default ./kong.yaml) or Kubernetes KongPlugin /\n" +
			"KongClusterPlugin manifests and judges every authkit plugin entry (global, per service,\n" +
			"per route, per consumer) with the plugins' own code: first against the schema the plugin\n" +
			"declares to Kong (what Kong refuses at start-up: unknown field, wrong type, empty string),\n" +
			"then with the plugin's config compiler (what the plugin refuses at run time with\n" +
			"CONFIG_INVALID: bad hashes, plaintext passwords, bad URLs). Each problem names its place\n" +
			"in the file. Exit status 1 when there is an error; warnings alone exit 0.",
		Example: "  authkit check\n" +
			"  authkit check deploy/kubernetes/kongplugins.yaml --json",
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "kong.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			res := checkConfig(data)
			if err := res.print(cmd.OutOrStdout(), cmd.ErrOrStderr(), filepath.Base(path), asJSON); err != nil {
				return err
			}
			if res.errors() > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the problems as a JSON list (the summary goes to stderr)")
	return cmd
}

// problem is one finding. Path locates the plugin entry (or the document
// key) in the file, Field the config field below it.
type problem struct {
	Path     string `json:"path"`
	Line     int    `json:"line,omitempty"`
	Plugin   string `json:"plugin,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
	Severity string `json:"severity"` // "error" or "warning"
	where    string // "authkit-basic on route basic-demo"
}

type checkResult struct {
	entries  int
	problems []problem
}

func (r *checkResult) errors() int {
	n := 0
	for _, p := range r.problems {
		if p.Severity == "error" {
			n++
		}
	}
	return n
}

func (r *checkResult) print(out, errOut io.Writer, name string, asJSON bool) error {
	errs := r.errors()
	summary := fmt.Sprintf("%s: %d authkit plugin %s, %d %s", name, r.entries, pluralInt(r.entries, "entry", "entries"),
		len(r.problems), pluralInt(len(r.problems), "problem", "problems"))
	if len(r.problems) > 0 {
		summary += fmt.Sprintf(" (%d %s, %d %s)", errs, pluralInt(errs, "error", "errors"),
			len(r.problems)-errs, pluralInt(len(r.problems)-errs, "warning", "warnings"))
	}
	if asJSON {
		list := r.problems
		if list == nil {
			list = []problem{}
		}
		if err := writeJSON(out, list); err != nil {
			return err
		}
		_, err := fmt.Fprintln(errOut, summary)
		return err
	}
	w := &errWriter{w: out}
	for _, p := range r.problems {
		loc := name
		if p.Line > 0 {
			loc += ":" + strconv.Itoa(p.Line)
		}
		fmt.Fprintf(w, "%s: %s", loc, p.Path)
		if p.where != "" {
			fmt.Fprintf(w, " (%s)", p.where)
		}
		if p.Field != "" {
			fmt.Fprintf(w, ": %s", p.Field)
		}
		if p.Severity != "error" {
			fmt.Fprintf(w, ": %s", p.Severity)
		}
		fmt.Fprintf(w, ": %s\n", p.Message)
	}
	fmt.Fprintln(w, summary)
	return w.err
}

func pluralInt(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// entry is one plugin entry found in the file.
type entry struct {
	doc   *yamlDoc
	path  []any // from the document root to the entry: "services", 0, "plugins", 1
	label string
	where string // "on route basic-demo"
	raw   map[string]any
	name  string
	// nameKey is the key holding the plugin name: "name", or "plugin" in a KongPlugin.
	nameKey string
	config  any
	// consumer is set when the entry is scoped to a consumer.
	consumer bool
}

// checkConfig runs every check on a file's content.
func checkConfig(data []byte) *checkResult {
	res := &checkResult{}
	docs := splitYAMLDocs(data)
	multi := len(docs) > 1
	for di, d := range docs {
		var v any
		if err := yaml.Unmarshal([]byte(d.text), &v); err != nil {
			res.problems = append(res.problems, problem{Path: docLabel(multi, di, ""), Line: d.first,
				Message: "not valid YAML: " + err.Error(), Severity: "error"})
			continue
		}
		m, _ := v.(map[string]any)
		if m == nil {
			continue
		}
		var entries []entry
		switch kind, _ := m["kind"].(string); kind {
		case "KongPlugin", "KongClusterPlugin":
			meta, _ := m["metadata"].(map[string]any)
			label := kind + " " + metaName(meta)
			if _, ok := m["configFrom"]; ok && m["config"] == nil {
				if name, _ := m["plugin"].(string); strings.HasPrefix(name, "authkit-") {
					res.problems = append(res.problems, problem{Path: label, Line: d.lineOf([]any{"configFrom"}), Plugin: name,
						Message: "config comes from a Secret (configFrom): not checked", Severity: "warning"})
				}
				continue
			}
			name, _ := m["plugin"].(string)
			entries = append(entries, entry{doc: d, label: label, name: name, nameKey: "plugin", config: m["config"], raw: m})
		case "":
			entries = declarativeEntries(res, d, m, docLabel(multi, di, ""))
		default:
			continue // an Ingress, a Secret, ...: nothing of ours
		}
		for _, e := range entries {
			checkEntry(res, e)
		}
	}
	return res
}

func docLabel(multi bool, i int, path string) string {
	if !multi {
		return path
	}
	if path == "" {
		return fmt.Sprintf("document %d", i+1)
	}
	return fmt.Sprintf("document %d: %s", i+1, path)
}

func metaName(meta map[string]any) string {
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != "" {
		return ns + "/" + name
	}
	return name
}

// declarativeEntries collects the plugin entries of a Kong declarative
// config: global, per service, per route (nested or top-level), per
// consumer; it also checks _format_version.
func declarativeEntries(res *checkResult, d *yamlDoc, m map[string]any, prefix string) []entry {
	isKong := false
	for _, k := range []string{"_format_version", "services", "routes", "plugins", "consumers"} {
		if _, ok := m[k]; ok {
			isKong = true
		}
	}
	if !isKong {
		return nil
	}
	label := func(path string) string {
		if prefix == "" {
			return path
		}
		return prefix + ": " + path
	}
	switch fv := m["_format_version"].(type) {
	case string:
		if fv != "3.0" && fv != "2.1" && fv != "1.1" {
			res.problems = append(res.problems, problem{Path: label("_format_version"), Line: d.lineOf([]any{"_format_version"}),
				Message: fmt.Sprintf("%q is not a format Kong 3.x reads (\"3.0\"; \"2.1\" and \"1.1\" are migrated)", fv), Severity: "warning"})
		}
	default:
		res.problems = append(res.problems, problem{Path: label("_format_version"), Line: d.lineOf(nil),
			Message: fmt.Sprintf("missing or not a string (%v): Kong's declarative config needs _format_version: \"3.0\"", fv), Severity: "warning"})
	}
	var out []entry
	add := func(path []any, where string, parent map[string]any, consumer bool) {
		list, _ := parent["plugins"].([]any)
		for i, p := range list {
			pm, _ := p.(map[string]any)
			if pm == nil {
				continue
			}
			ep := append(append([]any(nil), path...), "plugins", i)
			name, _ := pm["name"].(string)
			w, onConsumer := where, consumer
			if w == "" {
				w = "global"
				if c := pm["consumer"]; c != nil {
					w, onConsumer = "on consumer "+refName(c), true
				} else if r := pm["route"]; r != nil {
					w = "on route " + refName(r)
				} else if s := pm["service"]; s != nil {
					w = "on service " + refName(s)
				}
			}
			out = append(out, entry{doc: d, path: ep, label: label(renderPath(ep)), where: w, raw: pm, name: name, nameKey: "name", config: pm["config"], consumer: onConsumer})
		}
	}
	add(nil, "", m, false)
	each := func(key string, fn func(i int, o map[string]any)) {
		list, _ := m[key].([]any)
		for i, o := range list {
			if om, ok := o.(map[string]any); ok {
				fn(i, om)
			}
		}
	}
	each("services", func(i int, s map[string]any) {
		add([]any{"services", i}, "on service "+nameOr(s, "name", i), s, false)
		routes, _ := s["routes"].([]any)
		for j, r := range routes {
			if rm, ok := r.(map[string]any); ok {
				add([]any{"services", i, "routes", j}, "on route "+nameOr(rm, "name", j), rm, false)
			}
		}
	})
	each("routes", func(i int, r map[string]any) { add([]any{"routes", i}, "on route "+nameOr(r, "name", i), r, false) })
	each("consumers", func(i int, c map[string]any) {
		add([]any{"consumers", i}, "on consumer "+nameOr(c, "username", i), c, true)
	})
	return out
}

func nameOr(m map[string]any, key string, i int) string {
	if s, ok := m[key].(string); ok && s != "" {
		return s
	}
	if s, ok := m["id"].(string); ok && s != "" {
		return s
	}
	return "#" + strconv.Itoa(i)
}

// refName renders a foreign key of a top-level plugin entry: a name, or
// {name: ...} / {id: ...}.
func refName(v any) string {
	if m, ok := v.(map[string]any); ok {
		for _, k := range []string{"name", "username", "id"} {
			if s, ok := m[k].(string); ok {
				return s
			}
		}
	}
	return fmt.Sprint(v)
}

func renderPath(path []any) string {
	var b strings.Builder
	for _, s := range path {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// checkEntry judges one plugin entry: Kong's schema first (start-up), then
// the plugin's compiler (run time), exactly as the gateway would.
func checkEntry(res *checkResult, e entry) {
	if !strings.HasPrefix(e.name, "authkit-") {
		return
	}
	res.entries++
	where := e.name
	if e.where != "" {
		where += " " + e.where
	}
	report := func(sev string, field []any, msg string) {
		full := append(append([]any(nil), e.path...), field...)
		p := problem{Path: e.label, Line: e.doc.lineOf(full), Plugin: e.name, Message: msg, Severity: sev, where: where}
		if len(field) > 0 {
			p.Field = renderPath(field)
		}
		res.problems = append(res.problems, p)
	}
	plugin, ok := pluginreg.Lookup(e.name)
	if !ok {
		report("error", []any{e.nameKey}, fmt.Sprintf("unknown authkit plugin: this authkit knows %s (a typo, or a plugin newer than this CLI); Kong refuses to start when a configured plugin is not installed",
			strings.Join(pluginreg.Names(), ", ")))
		return
	}
	if e.consumer && plugin.Authenticates {
		report("warning", nil, "an authentication plugin scoped to a consumer never authenticates anyone: Kong picks consumer-scoped plugins only after a consumer is identified; put it on the route or service")
	}
	var cfg map[string]any
	switch c := e.config.(type) {
	case nil:
	case map[string]any:
		cfg = c
	default:
		report("error", []any{"config"}, "expected a record")
		return
	}
	schema, err := kongschema.Generate(plugin.New())
	if err != nil {
		report("error", []any{"config"}, err.Error())
		return
	}
	norm, err := schema.Normalize(cfg)
	// Fields Kong refuses are reported, then left out so the plugin's
	// compiler still judges the rest: one run shows every problem. A rule
	// across fields (an entity check) is reported on the config itself.
	removed := map[string]bool{}
	var ve *kongschema.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Fields {
			report("error", append([]any{"config"}, fe.Path...), fe.Message+" (Kong refuses the config at start-up)")
			if name, ok := first(fe.Path); ok && !fe.Entity {
				removed[name] = true
			}
		}
		rest := make(map[string]any, len(cfg))
		for k, v := range cfg {
			if !removed[k] {
				rest[k] = v
			}
		}
		if norm, err = schema.Normalize(rest); err != nil {
			return // what is left still breaks a rule across fields: fixed first
		}
	} else if err != nil {
		report("error", []any{"config"}, err.Error())
		return
	}
	js, err := json.Marshal(norm)
	if err != nil {
		report("error", []any{"config"}, err.Error())
		return
	}
	warnings, err := pluginreg.CheckJSON(e.name, js)
	for _, w := range warnings {
		field, rest := compileErrorPath(schema, w)
		report("warning", field, rest+" (the plugin logs this at warn)")
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			field, rest := compileErrorPath(schema, line)
			if len(removed) > 0 && (len(field) < 2 || removed[field[1].(string)]) {
				continue // may only be a consequence of a field left out
			}
			report("error", field, rest+" (the plugin refuses every request: CONFIG_INVALID)")
		}
	}
}

// first is the top-level field a path starts with.
func first(path []any) (string, bool) {
	if len(path) == 0 {
		return "", false
	}
	name, ok := path[0].(string)
	return name, ok
}

var fieldPathRE = regexp.MustCompile(`^([a-z0-9_]+(?:\[\d+\])*(?:\.[a-z0-9_]+(?:\[\d+\])*)*): (.+)$`)

// compileErrorPath reads the field a plugin's compile error starts with
// ("credentials[1].password_hash: passwd: ..."); a leading word that is not
// a config field ("passwd: ...") stays in the message.
func compileErrorPath(schema *kongschema.Field, msg string) ([]any, string) {
	m := fieldPathRE.FindStringSubmatch(msg)
	if m == nil {
		return []any{"config"}, msg
	}
	path := []any{"config"}
	for _, part := range strings.Split(m[1], ".") {
		name, idx, _ := strings.Cut(part, "[")
		path = append(path, name)
		for idx != "" {
			n, rest, _ := strings.Cut(idx, "]")
			i, _ := strconv.Atoi(n)
			path = append(path, i)
			idx = strings.TrimPrefix(rest, "[")
		}
	}
	if schema.Lookup(path[1].(string)) == nil {
		return []any{"config"}, msg
	}
	return path, m[2]
}
