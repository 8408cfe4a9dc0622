package gateway

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

// Compiled configs (and the caches and resources they own: verified
// passwords, lockout counters, Redis pools, the provider client) live
// here, process-wide, keyed by plugin and config fingerprint, so that the
// instances of one config (one per Kong worker, and a new one after every
// restart of an instance) share one compilation.
//
// An entry is held by the live plugin instances that used it (Meta's
// memo): Kong closes an instance after a config change, the plugin server
// closes the instances it replaces or reaps, and the last one to go
// starts the entry's grace (pluginserver.ReleaseGrace): requests still in
// flight on a closed instance keep using it, and a config that comes back
// within the grace finds it warm. After the grace the entry leaves the
// table and its value is closed (io.Closer). So the table holds the
// configs Kong runs, and nothing it stopped running for longer than the
// grace.
var (
	compiledMu sync.Mutex
	compiled   = map[string]*compiledEntry{}
)

type compiledEntry struct {
	key  string
	once sync.Once
	v    any
	err  error
	// refs counts the instances holding the entry; gen numbers its
	// grace periods, so that only the timer of the latest one expires
	// it. Both guarded by compiledMu.
	refs int
	gen  uint64
	// gates throttle the log lines of the refusals of a config that
	// does not compile, one per Kong plugin id (refusallog.go).
	gatesMu sync.Mutex
	gates   map[string]*refusalGate
}

// errReleased answers a request that reached a config only after it was
// released without ever being built (an instance closed before its first
// request, with a grace shorter than the build).
var errReleased = errors.New("the compiled config was released (its plugin instance is closed); Kong starts a new instance on the next request")

// Compile returns the compiled form of a config, building it at most once
// per (plugin, fingerprint) while the config is in use. A build error is
// kept too: a config that does not compile refuses every request with
// CONFIG_INVALID. A panic in build is turned into an error.
func Compile[T any](plugin string, meta *Meta, build func() (T, error)) (T, error) {
	var e *compiledEntry
	if meta.memo != nil {
		if e = meta.memo.entry.Load(); e == nil {
			e = meta.memo.acquire(plugin + "\x00" + meta.Fingerprint)
		}
	} else {
		e = acquireEntry(plugin+"\x00"+meta.Fingerprint, false)
	}
	e.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				e.err = fmt.Errorf("config compile panicked: %v", p)
			}
		}()
		e.v, e.err = build()
	})
	return result[T](e)
}

func result[T any](e *compiledEntry) (T, error) {
	if e.err != nil {
		var zero T
		return zero, e.err
	}
	return e.v.(T), nil
}

// acquireEntry returns the entry of key, creating it, and takes a
// reference when hold. An entry no instance holds starts its grace when
// it is created.
func acquireEntry(key string, hold bool) *compiledEntry {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	e, ok := compiled[key]
	if !ok {
		e = &compiledEntry{key: key}
		compiled[key] = e
		metrics.Held(metrics.HeldCompiledConfigs, len(compiled))
	}
	if hold {
		e.refs++
	} else if !ok {
		e.graceLocked()
	}
	return e
}

// release gives back an instance's reference; the last one starts the
// grace.
func (e *compiledEntry) release() {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	e.refs--
	if e.refs == 0 {
		e.graceLocked()
	}
}

func (e *compiledEntry) graceLocked() {
	e.gen++
	gen := e.gen
	time.AfterFunc(pluginserver.ReleaseGrace, func() { e.expire(gen) })
}

// expire drops the entry and closes its value, unless an instance took it
// again during the grace (or a later grace started).
func (e *compiledEntry) expire(gen uint64) {
	compiledMu.Lock()
	if e.refs > 0 || e.gen != gen || compiled[e.key] != e {
		compiledMu.Unlock()
		return
	}
	delete(compiled, e.key)
	metrics.Held(metrics.HeldCompiledConfigs, len(compiled))
	compiledMu.Unlock()
	// Waits for a build in progress; marks one that never started.
	e.once.Do(func() { e.err = errReleased })
	if c, ok := e.v.(io.Closer); ok && e.err == nil {
		_ = c.Close()
	}
}

// CompiledConfigs is the number of compiled configs held (tests).
func CompiledConfigs() int {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	return len(compiled)
}
