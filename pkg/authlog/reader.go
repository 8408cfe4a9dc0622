package authlog

import (
	"bufio"
	"errors"
	"io"
)

// DefaultMaxLine is the longest line LineReader returns. A Kong file-log
// entry with large headers stays well below it; nginx itself cuts error.log
// messages at a few KiB.
const DefaultMaxLine = 1 << 20

// LineReader splits a stream into lines without ever holding more than one
// line (at most max bytes) plus a fixed read buffer, whatever the input size.
// A line longer than max is skipped as it streams past and reported with
// tooLong, so one runaway line can neither exhaust memory nor stop a report.
//
// It also serves `--follow`: at the end of the input an unterminated line is
// kept, not returned, and the next call continues it once more data arrives.
type LineReader struct {
	br       *bufio.Reader
	max      int
	buf      []byte // the current line when it spans buffer refills
	skipping bool   // inside a line longer than max
}

// NewLineReader returns a LineReader over r; max <= 0 means DefaultMaxLine.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Reset makes the reader continue on r (a reopened or truncated file),
// dropping any partial line: its start is gone.
func (lr *LineReader) Reset(r io.Reader) {
	lr.br.Reset(r)
	lr.buf, lr.skipping = lr.buf[:0], false
}

// Next returns the next complete line without its "\n" (or "\r\n"). The
// slice is only valid until the next call. tooLong reports a line that was
// longer than max; its content is not returned. At the end of the input Next
// returns io.EOF and keeps any unterminated line for Flush or a later Next.
func (lr *LineReader) Next() (line []byte, tooLong bool, err error) {
	for {
		chunk, err := lr.br.ReadSlice('\n')
		switch {
		case err == nil:
			if lr.skipping {
				lr.skipping, lr.buf = false, lr.buf[:0]
				return nil, true, nil
			}
			if len(lr.buf)+len(chunk)-1 > lr.max {
				lr.buf = lr.buf[:0]
				return nil, true, nil
			}
			if len(lr.buf) == 0 {
				return trimEOL(chunk), false, nil // no copy on the common path
			}
			lr.buf = append(lr.buf, chunk...)
			line := trimEOL(lr.buf)
			lr.buf = lr.buf[:0]
			return line, false, nil
		case errors.Is(err, bufio.ErrBufferFull), errors.Is(err, io.EOF):
			lr.keep(chunk)
			if errors.Is(err, io.EOF) {
				return nil, false, io.EOF
			}
		default:
			return nil, false, err
		}
	}
}

// keep stores part of a line that continues beyond the read buffer.
func (lr *LineReader) keep(chunk []byte) {
	if lr.skipping {
		return
	}
	if len(lr.buf)+len(chunk) > lr.max {
		lr.skipping, lr.buf = true, lr.buf[:0]
		return
	}
	lr.buf = append(lr.buf, chunk...)
}

// Flush returns the unterminated last line kept at io.EOF, if any: a file
// that does not end with a newline still has a last line.
func (lr *LineReader) Flush() (line []byte, tooLong, ok bool) {
	switch {
	case lr.skipping:
		lr.skipping = false
		return nil, true, true
	case len(lr.buf) > 0:
		line = trimEOL(lr.buf)
		lr.buf = lr.buf[:0]
		return line, false, true
	}
	return nil, false, false
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
