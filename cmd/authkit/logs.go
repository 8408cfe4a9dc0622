package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

type logsOptions struct {
	follow  bool
	since   string
	until   string
	codes   []string
	plugins []string
	json    bool
	tz      string
	config  string
	admin   string
	poll    time.Duration
	maxLine int
}

func newLogsCmd() *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs [FILE...]",
		Short: "Summarise authkit refusals from Kong's error.log or file-log/http-log output",
		Long: "logs reads Kong error.log lines (`authkit {…}`) and file-log/http-log JSON lines (the\n" +
			"`authkit` key) from the files given, or from stdin when there are none or FILE is \"-\",\n" +
			"and prints per code: count, first and last time, top routes, clients and consumers, and\n" +
			"the catalog's cause and fix. Input is streamed: files of any size use constant memory.\n" +
			"Unparseable lines are counted and located, never fatal. Exit status 1 only when a file,\n" +
			"--config or --admin-url cannot be read.\n\n" +
			"Lines may carry a collector's prefix: docker compose logs [-t], docker logs -t, kubectl\n" +
			"logs --prefix --timestamps, journalctl (short or short-iso). Only the plugins' own lines\n" +
			"count (error.log: `[kong] pb_rpc.lua:N authkit {` right after nginx's prefix; file-log: the\n" +
			"top-level `authkit` member); other lines quoting `authkit {` are counted apart. Values are\n" +
			"printed with control characters escaped. Events without a readable time are counted and\n" +
			"excluded by --since/--until.\n\n" +
			"--follow tails one file (polling; survives truncation and rotation), prints each matching\n" +
			"event as it arrives and the summary on Ctrl-C. It starts at the end of the file, or at the\n" +
			"beginning when --since is given.",
		Example: "  authkit logs /usr/local/kong/logs/error.log --since 1h\n" +
			"  docker compose -f deploy/compose.yaml logs -t kong | authkit logs --since 1h --config kong.yaml\n" +
			"  kubectl logs --prefix --timestamps deploy/kong | authkit logs --code BASIC_LOCKED_OUT --json\n" +
			"  authkit logs -f /tmp/file-log.json --plugin authkit-oauth",
		RunE: func(cmd *cobra.Command, args []string) error { return runLogs(cmd, o, args) },
	}
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "keep reading one FILE as it grows")
	f.StringVar(&o.since, "since", "", "only events after this: a duration (90m, 1h, 2d) or an RFC 3339 time")
	f.StringVar(&o.until, "until", "", "only events before this: a duration back from now or an RFC 3339 time")
	f.StringSliceVar(&o.codes, "code", nil, "only this code (repeatable, case-insensitive)")
	f.StringSliceVar(&o.plugins, "plugin", nil, "only this plugin (repeatable)")
	f.BoolVar(&o.json, "json", false, "print one JSON document (with --follow: one JSON object per event, then the summary)")
	f.StringVar(&o.config, "config", "", "name routes and services from this DB-less declarative config (kong.yaml)")
	f.StringVar(&o.admin, "admin-url", "", "name routes and services from Kong's Admin API (e.g. http://127.0.0.1:8001)")
	f.StringVar(&o.tz, "tz", "Local", "time zone of error.log timestamps, which nginx writes without an offset (e.g. UTC)")
	f.DurationVar(&o.poll, "poll", 250*time.Millisecond, "--follow polling interval")
	f.IntVar(&o.maxLine, "max-line", authlog.DefaultMaxLine, "longer lines are skipped and counted as unparseable")
	_ = f.MarkHidden("poll")
	_ = f.MarkHidden("max-line")
	return cmd
}

func runLogs(cmd *cobra.Command, o *logsOptions, args []string) error {
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return usageError(fmt.Errorf("--tz: %w", err))
	}
	filter := authlog.Filter{Codes: o.codes, Plugins: o.plugins}
	now := time.Now()
	if o.since != "" {
		if filter.Since, err = parseSince(o.since, now); err != nil {
			return usageError(err)
		}
	}
	if o.until != "" {
		if filter.Until, err = parseSince(o.until, now); err != nil {
			return usageError(fmt.Errorf("--until%s", strings.TrimPrefix(err.Error(), "--since")))
		}
	}
	agg := authlog.NewAggregator(filter)
	agg.Parser.Location = loc
	r := &reporter{out: cmd.OutOrStdout(), json: o.json, loc: loc, filter: filter}
	if r.names, err = loadNames(cmd, o); err != nil {
		return err
	}

	if o.follow {
		if len(args) != 1 || args[0] == "-" {
			return usageError(errors.New("--follow needs exactly one FILE"))
		}
		return followFile(cmd.Context(), cmd, o, agg, r, args[0], o.since != "")
	}

	if len(args) == 0 {
		args = []string{"-"}
	}
	failed := false
	for _, name := range args {
		var in io.Reader = cmd.InOrStdin()
		source := "stdin"
		var f *os.File
		if name != "-" {
			if f, err = os.Open(name); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "authkit logs: %v\n", err)
				failed = true
				continue
			}
			in, source = f, name
		}
		err := scan(cmd.Context(), agg, source, in, o.maxLine)
		if f != nil {
			f.Close()
		}
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(cmd.ErrOrStderr(), "authkit logs: interrupted; reporting what was read")
			break
		}
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "authkit logs: %s: %v\n", source, err)
			failed = true
		}
	}
	r.inputs = args
	if err := r.report(agg.Report()); err != nil {
		return err
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// loadNames reads the route names --config or --admin-url give. A config
// or an Admin API that cannot be read is an error (exit 1): the operator
// asked for names, and a report without them would look like one with.
func loadNames(cmd *cobra.Command, o *logsOptions) (routeNames, error) {
	names := routeNames{}
	if o.config != "" {
		n, unnamed, err := loadConfigNames(o.config)
		if err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("--config: %w", err)}
		}
		if unnamed > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "authkit logs: %s: %d %s neither an id nor a name: Kong gives such routes random ids, which only --admin-url can name\n",
				o.config, unnamed, oneOrMore(int64(unnamed), "route has", "routes have"))
		}
		maps.Copy(names, n)
	}
	if o.admin != "" {
		n, err := fetchAdminNames(cmd.Context(), http.DefaultClient, o.admin)
		if err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("--admin-url: %w", err)}
		}
		maps.Copy(names, n)
	}
	return names, nil
}

// scan feeds every line of in to agg. It holds one line at a time (see
// authlog.LineReader); ctx is checked every few thousand lines so Ctrl-C
// on a huge file still yields the report of what was read.
func scan(ctx context.Context, agg *authlog.Aggregator, source string, in io.Reader, maxLine int) error {
	lr := authlog.NewLineReader(in, maxLine)
	var n int64
	for {
		line, tooLong, err := lr.Next()
		if errors.Is(err, io.EOF) {
			if line, tooLong, ok := lr.Flush(); ok {
				n++
				addLine(agg, source, n, line, tooLong, maxLine)
			}
			return nil
		}
		if err != nil {
			return err
		}
		n++
		addLine(agg, source, n, line, tooLong, maxLine)
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func addLine(agg *authlog.Aggregator, source string, n int64, line []byte, tooLong bool, maxLine int) (authlog.Event, bool) {
	if tooLong {
		agg.AddUnparseable(source, n, fmt.Sprintf("%v: longer than %d bytes, skipped", authlog.ErrLineTooLong, maxLine))
		return authlog.Event{}, false
	}
	return agg.AddLine(source, n, line)
}

// parseSince accepts a duration back from now (Go syntax plus a "d" day
// suffix, since log questions are usually about days) or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(d, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * 24 * float64(time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (90m, 1h, 2d) or an RFC 3339 time (2026-11-27T10:00:00Z)", s)
}

// reporter renders a Report for people or as JSON.
type reporter struct {
	out    io.Writer
	json   bool
	loc    *time.Location
	filter authlog.Filter
	inputs []string
	names  routeNames
}

// codeJSON is one code in the JSON document: the counts plus the catalog's
// explanation, so a dashboard needs no second lookup.
type codeJSON struct {
	authlog.CodeReport
	InCatalog bool   `json:"in_catalog"`
	Message   string `json:"client_message,omitempty"`
	Cause     string `json:"cause,omitempty"`
	Hint      string `json:"hint,omitempty"`
}

type logsJSON struct {
	Inputs []string `json:"inputs"`
	Filter struct {
		Since   *time.Time `json:"since,omitempty"`
		Until   *time.Time `json:"until,omitempty"`
		Codes   []string   `json:"codes,omitempty"`
		Plugins []string   `json:"plugins,omitempty"`
	} `json:"filter"`
	Totals      authlog.Totals    `json:"totals"`
	Codes       []codeJSON        `json:"codes"`
	Unparseable []authlog.LineRef `json:"unparseable_lines"`
	Foreign     []authlog.LineRef `json:"foreign_lines"`
}

func (r *reporter) report(rep authlog.Report) error {
	r.names.name(&rep)
	if r.json {
		return r.reportJSON(rep)
	}
	return r.reportText(rep)
}

func (r *reporter) reportJSON(rep authlog.Report) error {
	doc := logsJSON{Inputs: r.inputs, Totals: rep.Totals, Codes: []codeJSON{}, Unparseable: rep.Unparseable, Foreign: rep.Foreign}
	if doc.Inputs == nil {
		doc.Inputs = []string{}
	}
	if !r.filter.Since.IsZero() {
		doc.Filter.Since = &r.filter.Since
	}
	if !r.filter.Until.IsZero() {
		doc.Filter.Until = &r.filter.Until
	}
	doc.Filter.Codes, doc.Filter.Plugins = r.filter.Codes, r.filter.Plugins
	if doc.Unparseable == nil {
		doc.Unparseable = []authlog.LineRef{}
	}
	if doc.Foreign == nil {
		doc.Foreign = []authlog.LineRef{}
	}
	for _, c := range rep.Codes {
		ent, ok := errcode.Lookup(errcode.Code(c.Code))
		cj := codeJSON{CodeReport: c, InCatalog: ok}
		if ok {
			cj.Message, cj.Cause, cj.Hint = ent.Message, ent.Cause, ent.Hint
		}
		doc.Codes = append(doc.Codes, cj)
	}
	enc := json.NewEncoder(r.out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// reportText prints the summary for people. Every value that came from a
// log line goes through esc: logs are untrusted input.
func (r *reporter) reportText(rep authlog.Report) error {
	w := &errWriter{w: r.out}
	r.totalsText(w, rep)
	if len(rep.Codes) == 0 {
		fmt.Fprintln(w, "no authkit events matched")
		return w.err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSTATUS\tCOUNT\tFIRST\tLAST")
	for _, c := range rep.Codes {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", esc(c.Code), statusText(c.Status), c.Count, r.when(c.First), r.when(c.Last))
	}
	_ = tw.Flush()
	for _, c := range rep.Codes {
		r.codeText(w, c)
	}
	return w.err
}

// totalsText prints the counts of the whole input: events, ordinary lines,
// damaged lines, lines quoting a record that the plugins did not write, and
// events whose time could not be read.
func (r *reporter) totalsText(w io.Writer, rep authlog.Report) {
	t := rep.Totals
	fmt.Fprintf(w, "%d lines: %d authkit events", t.Lines, t.Events)
	if t.Matched != t.Events {
		fmt.Fprintf(w, " (%d match the filters)", t.Matched)
	}
	fmt.Fprintf(w, ", %d not authkit, %d unparseable\n", t.NotAuthkit, t.Unparseable)
	refsText(w, "unparseable lines:", rep.Unparseable, t.Unparseable, true)
	if t.Foreign > 0 {
		fmt.Fprintf(w, "%d %s authkit but %s not written by the plugins (not counted):\n", t.Foreign, oneOrMore(t.Foreign, "line mentions", "lines mention"), oneOrMore(t.Foreign, "was", "were"))
		refsText(w, "", rep.Foreign, t.Foreign, false)
	}
	if t.Untimed > 0 {
		fmt.Fprintf(w, "%d %s no readable time", t.Untimed, oneOrMore(t.Untimed, "event had", "events had"))
		if r.filter.Windowed() {
			fmt.Fprintf(w, " and %s excluded by --since/--until\n", oneOrMore(t.Untimed, "was", "were"))
		} else {
			fmt.Fprintln(w, " (counted, but not in FIRST/LAST)")
		}
	}
}

// refsText lists where lines are, with their reason when it varies.
func refsText(w io.Writer, title string, refs []authlog.LineRef, total int64, reasons bool) {
	if len(refs) == 0 {
		return
	}
	if title != "" {
		fmt.Fprintln(w, title)
	}
	for _, u := range refs {
		if reasons {
			fmt.Fprintf(w, "  %s:%d  %s\n", esc(u.Source), u.Line, esc(u.Reason))
		} else {
			fmt.Fprintf(w, "  %s:%d\n", esc(u.Source), u.Line)
		}
	}
	if more := total - int64(len(refs)); more > 0 {
		fmt.Fprintf(w, "  … and %d more\n", more)
	}
}

func oneOrMore(n int64, one, more string) string {
	if n == 1 {
		return one
	}
	return more
}

// codeText prints one code's block.
func (r *reporter) codeText(w io.Writer, c authlog.CodeReport) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s  %s  %d %s", esc(c.Code), statusText(c.Status), c.Count, plural(c.Count, "event"))
	if len(c.Plugins) > 0 {
		plugins := make([]string, len(c.Plugins))
		for i, p := range c.Plugins {
			plugins[i] = esc(p)
		}
		fmt.Fprintf(w, "  (%s)", strings.Join(plugins, ", "))
	}
	fmt.Fprintln(w)
	if c.Accepted > 0 {
		fmt.Fprintf(w, "  accepted   %d warnings about requests that were let through (e.g. stale keys served while the provider failed)\n", c.Accepted)
	}
	if c.Anonymous > 0 {
		fmt.Fprintf(w, "  anonymous  %d fell back to the anonymous consumer instead of being refused\n", c.Anonymous)
	}
	fmt.Fprintf(w, "  routes     %s\n", topText(c.Routes))
	fmt.Fprintf(w, "  clients    %s\n", topText(c.Clients))
	fmt.Fprintf(w, "  consumers  %s\n", topText(c.Consumers))
	if ent, ok := errcode.Lookup(errcode.Code(c.Code)); ok {
		fmt.Fprintf(w, "  cause      %s\n", ent.Cause)
		fmt.Fprintf(w, "  fix        %s\n", ent.Hint)
	} else {
		fmt.Fprintln(w, "  cause      not in this CLI's catalog (a newer plugin, or not an authkit code)")
	}
}

func (r *reporter) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(r.loc).Format("2006-01-02 15:04:05")
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func statusText(s int) string {
	if s == 0 {
		return "-"
	}
	return strconv.Itoa(s)
}

// topText renders "orders (r-2) 8, r-1 4, - 2 (+3 more)"; "-" is "none".
func topText(t authlog.Top) string {
	if len(t.Top) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(t.Top)+1)
	for _, k := range t.Top {
		label := esc(k.Key)
		switch {
		case label == "":
			label = "-"
		case k.Name != "" && k.Service != "":
			label = esc(k.Name) + " (" + label + ", service " + esc(k.Service) + ")"
		case k.Name != "":
			label = esc(k.Name) + " (" + label + ")"
		case k.Service != "":
			label += " (service " + esc(k.Service) + ")"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", label, k.Count))
	}
	s := strings.Join(parts, ", ")
	if t.Rest > 0 {
		s += fmt.Sprintf(" (+%d more", t.Rest)
		if t.Overflow > 0 {
			s += fmt.Sprintf(", %d beyond the first %d distinct", t.Overflow, authlog.MaxKeys)
		}
		s += ")"
	}
	return s
}

// errWriter keeps the first write error so a long report checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
