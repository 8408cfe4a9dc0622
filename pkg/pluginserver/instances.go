package pluginserver

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Kong/go-pdk"
	"github.com/kong-authkit/kong-authkit/pkg/kongschema"
)

// Instance lifecycle. Kong starts one instance per (worker, plugin config)
// on first use and, after a config change, starts a new one and closes the
// old one (kong-go-plugins.md §2.2). go-pdk's CloseInstance also deletes
// every instance older than 60 s, because the "last event" time it checks
// is never written: every close then drops instances other workers and
// routes still use, and their next request costs a "closed" error, a reset
// of all instances in every worker and a new StartInstance each.
//
// Here a close deletes exactly the instance Kong names. What Kong never
// closes (a plugin deleted from the config, or given a new id with its
// route) is reaped once it has had no event for IdleTimeout, whatever the
// registry's size (reapIdle); if Kong still uses
// one after all, the event answers "no plugin instance", Kong resets the
// plugin's instances and starts them again, and the request goes on
// (pb_rpc.lua handle_event). An instance that goes (closed, reaped, or
// replaced by a restart with the same __seq__) is told so when its config
// value is an io.Closer: gateway's instances give back their compiled
// config, which is released after ReleaseGrace.
var (
	// MaxInstances: above it, a start also reaps instances idle for
	// IdleTimeout at once (otherwise the server's reaper does, every
	// reapEvery).
	MaxInstances = 1024
	// IdleTimeout: an instance without an event for this long is reaped.
	// A deleted plugin's config (its Redis pools and connections, its
	// metrics series) is freed at most IdleTimeout + ReleaseGrace after
	// its last request; a live route idle this long pays one
	// StartInstance round trip and, past the grace, one compile.
	IdleTimeout = 15 * time.Minute
	// ReleaseGrace is how long a compiled config outlives the last
	// instance using it: longer than any request may still run on a
	// closed instance (every provider and Redis wait is bounded by at
	// most 10 s, timeout_ms and http_timeout_ms), and it keeps a config
	// warm when Kong restarts its instances (a reset after "no plugin
	// instance", kong reload).
	ReleaseGrace = time.Minute
)

// reapEvery is how often the server looks for idle instances.
const reapEvery = 10 * time.Second

type instance struct {
	id        int32
	name      string
	started   time.Time
	lastEvent atomic.Int64 // unix nanoseconds
	handlers  map[string]func(*pdk.PDK)
	config    any
}

// close tells the instance's config value that the instance is gone.
func (inst *instance) close() {
	if c, ok := inst.config.(io.Closer); ok {
		_ = c.Close()
	}
}

type registry struct {
	mu sync.RWMutex
	m  map[int32]*instance
}

func (r *registry) get(id int32) *instance {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[id]
}

func (r *registry) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m)
}

// add stores inst under Kong's __seq__ (go-pdk ≥ 0.10 semantics: a config
// started again after a reset gets the same id and replaces the old
// instance), or under a free random id when Kong sent none. It returns
// the instances that went: the one replaced and those reaped.
func (r *registry) add(inst *instance, seq int) (gone []*instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq > 0 && seq <= 1<<31-1 {
		inst.id = int32(seq)
	} else {
		for {
			inst.id = rand.Int32N(1<<31-1) + 1
			if _, taken := r.m[inst.id]; !taken {
				break
			}
		}
	}
	if old := r.m[inst.id]; old != nil {
		gone = append(gone, old)
	}
	r.m[inst.id] = inst
	if len(r.m) > MaxInstances {
		gone = append(gone, r.reapLocked(time.Now(), inst)...)
	}
	return gone
}

// reap drops the instances idle for IdleTimeout and returns them.
func (r *registry) reap(now time.Time) []*instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reapLocked(now, nil)
}

func (r *registry) reapLocked(now time.Time, keep *instance) (gone []*instance) {
	cutoff := now.Add(-IdleTimeout).UnixNano()
	for id, old := range r.m {
		if old != keep && old.lastEvent.Load() < cutoff {
			delete(r.m, id)
			gone = append(gone, old)
		}
	}
	return gone
}

// reapIdle reaps idle instances every reapEvery (at most IdleTimeout)
// until stop closes: Kong never closes a deleted plugin's instance, and
// after the last config change no start may come to reap it. Serve owns
// it.
func (s *Server) reapIdle(stop <-chan struct{}) {
	tick := time.NewTicker(min(reapEvery, IdleTimeout))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			gone := s.instances.reap(now)
			for _, inst := range gone {
				inst.close()
			}
			if len(gone) > 0 {
				s.logf("reaped %d instance(s) idle for %s", len(gone), IdleTimeout)
			}
		}
	}
}

func (r *registry) remove(id int32) *instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	inst := r.m[id]
	delete(r.m, id)
	return inst
}

// startInstance decodes Kong's config JSON (every schema field plus
// __seq__, __key__, __plugin_id, route_id…, kong-go-plugins.md §2.1) into a
// new config value, exactly as go-pdk does. A panic in the config's
// UnmarshalJSON is an error, not the end of the process.
func (s *Server) startInstance(name string, config []byte) (inst *instance, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoding config panicked (%v)", p)
		}
	}()
	// The top level, read once: the metadata, and the field names the
	// start-up line reports.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(config, &top); err != nil {
		return nil, fmt.Errorf("decoding config metadata: %w", err)
	}
	var seq int
	if v, ok := top["__seq__"]; ok {
		if err := json.Unmarshal(v, &seq); err != nil {
			return nil, fmt.Errorf("decoding config metadata: __seq__: %w", err)
		}
	}
	cfg := s.constructor()
	if err := json.Unmarshal(config, cfg); err != nil {
		return nil, fmt.Errorf("decoding config: %w", err)
	}
	inst = &instance{name: name, started: time.Now(), handlers: handlersOf(cfg), config: cfg}
	inst.lastEvent.Store(inst.started.UnixNano())
	gone := s.instances.add(inst, seq)
	s.logf("started instance %d of %s (config fields unset: %s; from vault references: %s)", inst.id, name, unsetFields(cfg, top), referenced(top))
	for _, old := range gone {
		old.close()
	}
	if len(gone) > 0 {
		s.logf("dropped %d instance(s) replaced, or idle for %s", len(gone), IdleTimeout)
	}
	return inst, nil
}

// referenced lists the config fields whose value Kong resolved from a
// vault reference: Kong sends the references of a record's fields in its
// "$refs" (kong/db/schema/init.lua process_auto_fields), nested records
// their own. Names only.
func referenced(top map[string]json.RawMessage) string {
	var out []string
	var walk func(prefix string, m map[string]json.RawMessage)
	walk = func(prefix string, m map[string]json.RawMessage) {
		for k, v := range m {
			if k == "$refs" {
				var refs map[string]json.RawMessage
				if json.Unmarshal(v, &refs) == nil {
					for name := range refs {
						out = append(out, prefix+name)
					}
				}
				continue
			}
			var sub map[string]json.RawMessage
			if len(v) > 0 && v[0] == '{' && json.Unmarshal(v, &sub) == nil {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", top)
	if len(out) == 0 {
		return "none"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// unsetFields lists the config schema's top-level fields that Kong sent
// null or not at all, which tells an operator whether Kong applied the
// plugin's defaults: a field with a default is always sent (Kong fills
// it in), so only fields without one are listed. Names only, never a
// value: a config may hold a secret.
func unsetFields(cfg any, m map[string]json.RawMessage) string {
	if s, ok := cfg.(ConfigSchemer); ok {
		cfg = s.ConfigSchema()
	}
	schema, err := kongschema.Generate(cfg)
	if err != nil {
		return "?"
	}
	var out []string
	for _, f := range schema.Fields {
		if v, ok := m[f.Name]; !ok || string(v) == "null" {
			out = append(out, f.Name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// The phase methods go-pdk recognises, in its order.
type (
	certificater interface{ Certificate(*pdk.PDK) }
	rewriter     interface{ Rewrite(*pdk.PDK) }
	accesser     interface{ Access(*pdk.PDK) }
	responser    interface{ Response(*pdk.PDK) }
	prereader    interface{ Preread(*pdk.PDK) }
	logger       interface{ Log(*pdk.PDK) }
)

func handlersOf(cfg any) map[string]func(*pdk.PDK) {
	h := map[string]func(*pdk.PDK){}
	if x, ok := cfg.(certificater); ok {
		h["certificate"] = x.Certificate
	}
	if x, ok := cfg.(rewriter); ok {
		h["rewrite"] = x.Rewrite
	}
	if x, ok := cfg.(accesser); ok {
		h["access"] = x.Access
	}
	if x, ok := cfg.(responser); ok {
		h["response"] = x.Response
	}
	if x, ok := cfg.(prereader); ok {
		h["preread"] = x.Preread
	}
	if x, ok := cfg.(logger); ok {
		h["log"] = x.Log
	}
	return h
}
