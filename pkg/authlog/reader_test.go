package authlog

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readAll(t *testing.T, lr *LineReader) (lines []string, long int) {
	t.Helper()
	for {
		line, tooLong, err := lr.Next()
		if errors.Is(err, io.EOF) {
			if line, tooLong, ok := lr.Flush(); ok {
				if tooLong {
					long++
				} else {
					lines = append(lines, string(line))
				}
			}
			return lines, long
		}
		if err != nil {
			t.Fatal(err)
		}
		if tooLong {
			long++
			continue
		}
		lines = append(lines, string(line))
	}
}

func TestLineReader(t *testing.T) {
	big := strings.Repeat("b", 200<<10) // spans several 64 KiB buffer fills
	huge := strings.Repeat("h", 3<<20)
	for _, tc := range []struct {
		name  string
		in    string
		max   int
		lines []string
		long  int
	}{
		{"empty", "", 0, nil, 0},
		{"plain", "a\nb\n", 0, []string{"a", "b"}, 0},
		{"no final newline", "a\nb", 0, []string{"a", "b"}, 0},
		{"crlf and blank", "a\r\n\r\nb\n", 0, []string{"a", "", "b"}, 0},
		{"line across fills", "a\n" + big + "\nc\n", 0, []string{"a", big, "c"}, 0},
		{"too long skipped", "a\n" + huge + "\nc\n", 1 << 20, []string{"a", "c"}, 1},
		{"too long at end", "a\n" + huge, 1 << 20, []string{"a"}, 1},
		{"exactly max", strings.Repeat("m", 10) + "\n" + strings.Repeat("n", 11) + "\n", 10, []string{strings.Repeat("m", 10)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				if len(tc.in) > 1<<20 {
					r = strings.NewReader(tc.in) // one-byte reads of 3 MiB are just slow
				}
				lines, long := readAll(t, NewLineReader(r, tc.max))
				if strings.Join(lines, "|") != strings.Join(tc.lines, "|") || len(lines) != len(tc.lines) || long != tc.long {
					t.Fatalf("got %d lines (%d too long), want %d (%d)", len(lines), long, len(tc.lines), tc.long)
				}
			}
		})
	}
}

// A follower sees io.EOF in the middle of a line; the line must be completed
// by the next read, not returned in two halves.
func TestLineReaderResumesAfterEOF(t *testing.T) {
	pr := &growingReader{}
	lr := NewLineReader(pr, 0)
	pr.data = "first\nsec"
	if line, _, err := lr.Next(); err != nil || string(line) != "first" {
		t.Fatalf("%q %v", line, err)
	}
	if _, _, err := lr.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	pr.data += "ond\n"
	if line, _, err := lr.Next(); err != nil || string(line) != "second" {
		t.Fatalf("%q %v", line, err)
	}
}

type growingReader struct {
	data string
	off  int
}

func (g *growingReader) Read(p []byte) (int, error) {
	if g.off >= len(g.data) {
		return 0, io.EOF
	}
	n := copy(p, g.data[g.off:])
	g.off += n
	return n, nil
}
