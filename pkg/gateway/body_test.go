package gateway

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadBodyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(n int) string {
		p := filepath.Join(dir, "body")
		if err := os.WriteFile(p, bytes.Repeat([]byte("a"), n), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, n := range []int{0, 1, 100} {
		if b, err := readBodyFile(write(n), 100); err != nil || len(b) != n {
			t.Fatalf("%d bytes: %d %v", n, len(b), err)
		}
	}
	if _, err := readBodyFile(write(101), 100); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("101 bytes: %v", err)
	}
	if b, err := readBodyFile(filepath.Join(dir, "missing"), 100); err == nil || b != nil || errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("missing file must be an error, not an empty body: %q %v", b, err)
	}
}
