package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// Meta is what Kong adds to a plugin's config JSON besides the schema
// fields (kong-go-plugins.md §2.1). It is read without any PDK call and
// used in log lines.
type Meta struct {
	RouteID      string `json:"route_id"`
	ServiceID    string `json:"service_id"`
	PluginID     string `json:"__plugin_id"`
	InstanceName string `json:"plugin_instance_name"`
	// WorkspaceID is Kong's __ws_id: consumers are per workspace, so the
	// consumer cache is keyed by it.
	WorkspaceID string `json:"__ws_id"`
	// Fingerprint is SHA-256 of the config's schema fields only (not
	// __seq__/__key__), the key of the process-wide compiled-config cache.
	Fingerprint string `json:"-"`

	// memo keeps this instance's entry of the process-wide cache, so the
	// request path reads one atomic pointer instead of taking the cache's
	// lock. A pointer, so that copying a config copies no atomic.
	memo *memo
}

type memo struct {
	entry atomic.Pointer[compiledEntry]
	// route is this instance's decision counters (metrics on only).
	route atomic.Pointer[metrics.Route]

	// mu orders the slow paths: the first use of entry and route takes a
	// reference on each, and close gives them back, once. After close a
	// late request still gets both, without holding them.
	mu     sync.Mutex
	closed bool
}

// acquire returns the compiled entry of key, holding it for this
// instance unless the instance is closed.
func (m *memo) acquire(key string) *compiledEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entry.Load(); e != nil {
		return e
	}
	e := acquireEntry(key, !m.closed)
	m.entry.Store(e)
	return e
}

// close gives back what the instance holds (pluginserver closes the
// instance: Kong closed it, or it was replaced or reaped).
func (m *memo) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	e, r := m.entry.Load(), m.route.Load()
	m.mu.Unlock()
	if e != nil {
		e.release()
	}
	r.Release()
}

// metricsRoute returns the decision counters of plugin on this instance's
// route, kept (and held, metrics.Route.Release) in the memo so a request
// does not look them up.
func (m *Meta) metricsRoute(plugin string) *metrics.Route {
	if m == nil {
		r := metrics.ForRoute(plugin, "")
		r.Release()
		return r
	}
	if m.memo == nil {
		r := metrics.ForRoute(plugin, m.RouteID)
		r.Release()
		return r
	}
	if r := m.memo.route.Load(); r != nil {
		return r
	}
	m.memo.mu.Lock()
	defer m.memo.mu.Unlock()
	if r := m.memo.route.Load(); r != nil {
		return r
	}
	r := metrics.ForRoute(plugin, m.RouteID)
	if m.memo.closed {
		r.Release()
	}
	m.memo.route.Store(r)
	return r
}

// DecodeConfig is for a plugin Config's UnmarshalJSON: it decodes the
// schema fields into plain (a pointer to the Config's plain alias type, so
// this does not recurse), Kong's extra keys into meta, and computes the
// config fingerprint. Unknown keys are ignored, as go-pdk does.
func DecodeConfig(data []byte, plain any, meta *Meta) error {
	if err := json.Unmarshal(data, plain); err != nil {
		return err
	}
	_ = json.Unmarshal(data, meta) // best effort: meta is for logs only
	canon, err := json.Marshal(plain)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(canon)
	meta.Fingerprint = hex.EncodeToString(sum[:])
	meta.memo = &memo{}
	return nil
}

func (m *Meta) workspace() string {
	if m == nil {
		return ""
	}
	return m.WorkspaceID
}
