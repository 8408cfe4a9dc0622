package gateway

import (
	"fmt"
	"sync"
)

// Kong starts a new plugin instance on every config change and go-pdk
// purges instances older than 60 s on any close (kong-go-plugins.md §2.2),
// so per-instance state is short-lived. Compiled configs (and the caches
// they own: verified passwords, lockout counters, key sets) live here,
// process-wide, keyed by plugin and config fingerprint.
var (
	compiledMu sync.Mutex
	compiled   = map[string]*compiledEntry{}
)

// maxCompiled bounds the cache; a gateway has a bounded number of distinct
// configs, and an old entry is only dropped when it is this far behind.
const maxCompiled = 512

type compiledEntry struct {
	once sync.Once
	v    any
	err  error
	gen  uint64
	// gates throttle the log lines of the refusals of a config that
	// does not compile, one per Kong plugin id (refusallog.go).
	gatesMu sync.Mutex
	gates   map[string]*refusalGate
}

var compileGen uint64

// Compile returns the compiled form of a config, building it at most once
// per (plugin, fingerprint) in this process. A build error is kept too: a
// config that does not compile refuses every request with CONFIG_INVALID.
// A panic in build is turned into an error.
func Compile[T any](plugin string, meta *Meta, build func() (T, error)) (T, error) {
	if meta.memo != nil {
		if e := meta.memo.entry.Load(); e != nil {
			return result[T](e)
		}
	}
	key := plugin + "\x00" + meta.Fingerprint
	compiledMu.Lock()
	e, ok := compiled[key]
	if !ok {
		if len(compiled) >= maxCompiled {
			evictOldestCompiledLocked()
		}
		e = &compiledEntry{}
		compiled[key] = e
	}
	compileGen++
	e.gen = compileGen
	compiledMu.Unlock()

	e.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				e.err = fmt.Errorf("config compile panicked: %v", p)
			}
		}()
		e.v, e.err = build()
	})
	if meta.memo != nil {
		meta.memo.entry.Store(e)
	}
	return result[T](e)
}

func result[T any](e *compiledEntry) (T, error) {
	if e.err != nil {
		var zero T
		return zero, e.err
	}
	return e.v.(T), nil
}

func evictOldestCompiledLocked() {
	var oldest string
	var gen uint64
	for k, e := range compiled {
		if oldest == "" || e.gen < gen {
			oldest, gen = k, e.gen
		}
	}
	delete(compiled, oldest)
}
