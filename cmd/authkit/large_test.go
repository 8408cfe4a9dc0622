package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineGen produces realistic lines quickly: the JSON of each shape is
// rendered once, with a placeholder for the client address, which changes
// on every line so the per-code maps hit their caps.
type lineGen struct {
	formats []string
}

func newLineGen() *lineGen {
	ts := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const ip = "CLIENTIP"
	g := &lineGen{}
	add := func(s string) { g.formats = append(g.formats, strings.ReplaceAll(s, ip, "%s")) }
	codes := []struct{ plugin, code string }{
		{"authkit-basic", "BASIC_INVALID_CREDENTIALS"}, {"authkit-basic", "BASIC_MISSING"}, {"authkit-key", "APIKEY_INVALID"},
		{"authkit-oauth", "OAUTH_TOKEN_EXPIRED"}, {"authkit-oauth", "OAUTH_INSUFFICIENT_SCOPE"},
	}
	for i, c := range codes {
		r := rec(c.plugin, c.code, 401, fmt.Sprintf("r-%d", i))
		add(errLine(ts, "notice", r, ip, "GET /api/orders/1234?page=2 HTTP/1.1"))
		add(fileLine(ts, r, ip, fmt.Sprintf("r-%d", i), "route", "", 401))
	}
	// Most of a real log is not refusals.
	for i := range 3 {
		add(fileLine(ts, nil, ip, "r-t", "traffic", "alice", 200))
		add(ts.Format("2006/01/02 15:04:05") + fmt.Sprintf(" [notice] 1#0: *%d [kong] some other message, client: CLIENTIP, server: kong", i))
	}
	add(`2026/11/27 10:00:00 [notice] 1#0: *5 [kong] pb_rpc.lua:233 authkit {"code":"BASIC_MISSING","detail":"cut here`) // damaged: unparseable
	return g
}

// write writes n lines to w and returns the byte count.
func (g *lineGen) write(w io.Writer, n int) int64 {
	bw := bufio.NewWriterSize(w, 1<<16)
	var total int64
	for i := range n {
		k, err := fmt.Fprintf(bw, g.formats[i%len(g.formats)]+"\n", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if err != nil {
			panic(err)
		}
		total += int64(k)
	}
	bw.Flush()
	return total
}

// peakHeap runs fn while sampling HeapInuse and returns the highest sample
// above the baseline taken after a GC.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak
}

// TestLogsMemoryFlat reads a log ten times larger than a first one and
// checks the peak heap does not grow with it: the file is streamed and the
// aggregates are bounded. The big variant (200k lines, ~60 MB) runs
// without -short.
func TestLogsMemoryFlat(t *testing.T) {
	small, big := 20_000, 200_000
	if raceEnabled {
		small, big = 5_000, 50_000
	}
	if testing.Short() {
		big = small * 3
	}
	g := newLineGen()
	measure := func(n int) (peak uint64, size int64, took time.Duration) {
		path := filepath.Join(t.TempDir(), "big.log")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		size = g.write(f, n)
		f.Close()
		var out bytes.Buffer
		start := time.Now()
		peak = peakHeap(func() {
			if code := run(context.Background(), []string{"logs", "--json", path}, strings.NewReader(""), &out, io.Discard); code != 0 {
				t.Fatalf("exit %d", code)
			}
		})
		took = time.Since(start)
		want := int64(n / len(g.formats))
		if !strings.Contains(out.String(), fmt.Sprintf(`"unparseable": %d`, want)) || !strings.Contains(out.String(), fmt.Sprintf(`"lines": %d`, n)) {
			t.Fatalf("counts wrong for %d lines:\n%.600s", n, out.String())
		}
		return peak, size, took
	}
	p1, s1, d1 := measure(small)
	p2, s2, d2 := measure(big)
	t.Logf("%d lines (%.1f MB): peak heap +%.1f MiB in %v; %d lines (%.1f MB): peak heap +%.1f MiB in %v",
		small, float64(s1)/1e6, float64(p1)/(1<<20), d1.Round(time.Millisecond), big, float64(s2)/1e6, float64(p2)/(1<<20), d2.Round(time.Millisecond))
	// Flat: a 10× larger input may not cost more than a fixed slack (GC
	// timing noise), and never a share of the file.
	const slack = 16 << 20
	if p2 > p1+slack {
		t.Errorf("peak heap grew from %d to %d bytes with %d× the input", p1, p2, big/small)
	}
	if int64(p2) > s2/2 && s2 > 4*slack {
		t.Errorf("peak heap %d bytes is a large share of the %d-byte input", p2, s2)
	}
}

// BenchmarkLogsThroughput is the whole `authkit logs` pipeline (read,
// split, parse, aggregate, report) on a generated mix of error.log,
// file-log, traffic and damaged lines.
func BenchmarkLogsThroughput(b *testing.B) {
	const n = 20_000
	var buf bytes.Buffer
	newLineGen().write(&buf, n)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if code := run(context.Background(), []string{"logs", "--json"}, bytes.NewReader(data), io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "lines/s")
}
