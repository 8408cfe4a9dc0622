// Package credfile loads a credentials list from a JSON or YAML file and
// re-reads it when the file changes, so keys and passwords can be rotated
// (for example through a mounted Kubernetes secret, which is swapped
// atomically) without reloading Kong.
package credfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"sigs.k8s.io/yaml"
)

// MaxSize bounds what is read from a credentials file.
const MaxSize = 16 << 20

// CheckInterval is how often the file is stat'ed for changes (at most once
// per interval, on the request path; a stat costs about a microsecond).
var CheckInterval = time.Second

// Decode reads a list of T from JSON or YAML: either a bare list or an
// object {"credentials": [...]}. Unknown fields are errors, so a typo in a
// field name is reported instead of silently ignored.
func Decode[T any](data []byte) ([]T, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not JSON or YAML: %w", err)
	}
	js = bytes.TrimSpace(js)
	if len(js) == 0 || bytes.Equal(js, []byte("null")) {
		return nil, errors.New("empty file")
	}
	if js[0] == '{' {
		var wrapper struct {
			Credentials json.RawMessage `json:"credentials"`
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&wrapper); err != nil {
			return nil, fmt.Errorf("expected a list or {\"credentials\": [...]}: %w", err)
		}
		if wrapper.Credentials == nil {
			return nil, errors.New(`missing "credentials" list`)
		}
		js = wrapper.Credentials
	}
	var out []T
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Watched is a file whose parsed content is kept and refreshed on change.
type Watched[T any] struct {
	path  string
	parse func([]byte) (T, error)
	now   func() time.Time

	mu      sync.RWMutex
	stamp   stamp
	checked time.Time
	val     T
	err     error
	loaded  bool
}

type stamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// Watch returns a Watched for path; nothing is read until Get.
func Watch[T any](path string, parse func([]byte) (T, error)) *Watched[T] {
	return &Watched[T]{path: path, parse: parse, now: time.Now}
}

// WatchList is Watch for a file of credentials of type C (Decode's
// formats) that merge builds a store S from: the static credentials of the
// config plus the file's, named "credentials_file" in errors.
func WatchList[C, S any](path string, merge func(field string, creds []C) (S, error)) *Watched[S] {
	return Watch(path, func(b []byte) (S, error) {
		creds, err := Decode[C](b)
		if err != nil {
			var zero S
			return zero, err
		}
		return merge("credentials_file", creds)
	})
}

// Get returns the current parsed content. A file that cannot be read or
// parsed yields an error (fail closed: a broken credentials file refuses
// requests rather than keeping revoked credentials alive).
func (w *Watched[T]) Get() (T, error) {
	now := w.now()
	w.mu.RLock()
	fresh := w.loaded && now.Sub(w.checked) < CheckInterval
	v, err := w.val, w.err
	w.mu.RUnlock()
	if fresh {
		return v, err
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.loaded && now.Sub(w.checked) < CheckInterval {
		return w.val, w.err
	}
	w.checked = now
	st, serr := statFile(w.path)
	if serr == nil && w.loaded && st == w.stamp && w.err == nil {
		return w.val, nil
	}
	w.loaded = true
	w.stamp = st
	if serr != nil {
		var zero T
		w.val, w.err = zero, fmt.Errorf("credentials_file %s: %w", w.path, serr)
		return w.val, w.err
	}
	data, err := readLimited(w.path)
	if err == nil {
		w.val, err = w.parse(data)
	}
	if err != nil {
		var zero T
		w.val, w.err = zero, fmt.Errorf("credentials_file %s: %w", w.path, err)
		return w.val, w.err
	}
	w.err = nil
	return w.val, nil
}

func statFile(path string) (stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stamp{size: fi.Size(), mtime: fi.ModTime(), ino: inode(fi)}, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(&limitReader{f: f, n: MaxSize + 1})
	if err != nil {
		return nil, err
	}
	if n > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	return buf.Bytes(), nil
}

type limitReader struct {
	f *os.File
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errEOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}
