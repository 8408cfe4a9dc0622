package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// followFile tails path until ctx ends, printing each matching event, then
// prints the summary. It polls rather than using inotify: that works the
// same on every OS and on network and container filesystems, and a quarter
// second is soon enough for a person watching refusals.
//
// Rotation (logrotate's rename + create, Kong's own reopen) is detected by
// the path naming another file: the old file is read to its end first, then
// the new one from its start. Truncation (copytruncate) is detected by the
// file becoming shorter than what was read, and reading restarts at 0.
func followFile(ctx context.Context, cmd *cobra.Command, o *logsOptions, agg *authlog.Aggregator, r *reporter, path string, fromStart bool) error {
	f, err := os.Open(path)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer func() { f.Close() }()
	if !fromStart {
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	r.inputs = []string{path}
	out := cmd.OutOrStdout()
	lr := authlog.NewLineReader(f, o.maxLine)
	var n int64
	emit := func(line []byte, tooLong bool) {
		n++
		if ev, ok := addLine(agg, path, n, line, tooLong, o.maxLine); ok {
			r.event(out, ev)
		}
	}
	drain := func() error {
		for {
			line, tooLong, err := lr.Next()
			if err != nil {
				return err
			}
			emit(line, tooLong)
		}
	}

	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	for {
		if err := drain(); !errors.Is(err, io.EOF) {
			fmt.Fprintf(cmd.ErrOrStderr(), "authkit logs: %s: %v\n", path, err)
		}
		select {
		case <-ctx.Done():
			return r.report(agg.Report())
		case <-tick.C:
		}
		cur, err1 := f.Stat()
		now, err2 := os.Stat(path)
		switch {
		case err1 != nil:
			continue
		case err2 == nil && !os.SameFile(cur, now):
			// Rotated: finish the old file, including a last line without
			// a newline, then start the new one at its beginning.
			_ = drain()
			if line, tooLong, ok := lr.Flush(); ok {
				emit(line, tooLong)
			}
			nf, err := os.Open(path)
			if err != nil {
				continue // created but not readable yet; retry next tick
			}
			f.Close()
			f = nf
			lr.Reset(f)
			n = 0
		default:
			pos, err := f.Seek(0, io.SeekCurrent)
			if err == nil && cur.Size() < pos {
				if _, err := f.Seek(0, io.SeekStart); err == nil {
					lr.Reset(f)
					n = 0
				}
			}
		}
	}
}

// eventJSON is one event as --follow --json prints it.
type eventJSON struct {
	Time   *time.Time      `json:"time,omitempty"`
	Level  string          `json:"level,omitempty"`
	Record *authlog.Record `json:"record"`
	// Outcome is the record's outcome in the catalog's vocabulary (the
	// metrics' outcome label): accepted, refused or anonymous.
	Outcome   errcode.Outcome `json:"outcome"`
	Client    string          `json:"client,omitempty"`
	Route     string          `json:"route,omitempty"`
	RouteName string          `json:"route_name,omitempty"`
	Consumer  string          `json:"consumer,omitempty"`
	Method    string          `json:"method,omitempty"`
	Path      string          `json:"path,omitempty"`
	Host      string          `json:"host,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
}

// event prints one event as it arrives.
func (r *reporter) event(w io.Writer, ev authlog.Event) {
	if r.json {
		j := eventJSON{Level: ev.Level, Record: &ev.Record, Outcome: ev.Record.Decision(), Client: ev.Client, Route: ev.Route, RouteName: ev.RouteName,
			Consumer: ev.Consumer, Method: ev.Method, Path: ev.Path, Host: ev.Host, RequestID: ev.RequestID}
		if !ev.Time.IsZero() {
			j.Time = &ev.Time
		}
		b, _ := json.Marshal(j)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	route := ev.RouteName
	if route == "" {
		route = ev.Route
	}
	// Every value comes from a log line: escaped (logs are untrusted input).
	fields := []string{r.when(ev.Time), esc(ev.Record.Code), statusText(ev.Record.Status), dash(esc(ev.Record.Plugin)),
		"route=" + dash(esc(route)), "client=" + dash(esc(ev.Client)), "consumer=" + dash(esc(ev.Consumer))}
	if ev.Method != "" {
		fields = append(fields, esc(ev.Method)+" "+esc(ev.Path))
	}
	if n := ev.Record.Events(); n > 1 {
		fields = append(fields, fmt.Sprintf("×%d", n)) // a throttled line: n refusals
	}
	if ev.Record.Detail != "" {
		fields = append(fields, fmt.Sprintf("%q", ev.Record.Detail))
	}
	fmt.Fprintln(w, strings.Join(fields, "  "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
