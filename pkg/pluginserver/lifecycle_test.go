package pluginserver

import (
	"bufio"
	"encoding/json"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/Kong/go-pdk"
	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"

	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

type testConfig struct {
	Message string `json:"message"`
}

func (c *testConfig) Access(k *pdk.PDK) { _ = k.Log.Notice(c.Message) }

// Close counts the closes of each message's config (io.Closer, the
// optional interface the server closes an instance's config through).
func (c *testConfig) Close() error {
	closedMu.Lock()
	defer closedMu.Unlock()
	closedConfigs[c.Message]++
	return nil
}

var (
	closedMu      sync.Mutex
	closedConfigs = map[string]int{}
)

// kong is a minimal Kong side for in-process tests: it sends commands and
// answers every PDK call with an empty frame.
type kong struct {
	t  testing.TB
	c  net.Conn
	r  *bufio.Reader
	sq int64
}

func serve(t testing.TB) (*Server, func() *kong) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "ps.socket"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(func() any { return &testConfig{} })
	s.logf = func(string, ...any) {}
	done := make(chan struct{})
	go func() { _ = s.Serve(l); close(done) }()
	t.Cleanup(func() { l.Close(); <-done })
	return s, func() *kong {
		c, err := net.Dial("unix", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return &kong{t: t, c: c, r: bufio.NewReader(c)}
	}
}

func (k *kong) send(call *kpp.RpcCall) {
	k.sq++
	call.Sequence = k.sq
	b, _ := proto.Marshal(call)
	if _, err := k.c.Write(appendFrame(nil, b)); err != nil {
		k.t.Fatal(err)
	}
}

func (k *kong) ret() *kpp.RpcReturn {
	b, err := readFrame(k.r)
	if err != nil {
		k.t.Fatal(err)
	}
	var r kpp.RpcReturn
	if err := proto.Unmarshal(b, &r); err != nil || r.Sequence != k.sq {
		k.t.Fatalf("RpcReturn %v sequence %d, want %d", err, r.Sequence, k.sq)
	}
	return &r
}

func (k *kong) start(seq int, msg string) int32 {
	cfg, _ := json.Marshal(map[string]any{"message": msg, "__seq__": seq})
	k.send(&kpp.RpcCall{Call: &kpp.RpcCall_CmdStartInstance{CmdStartInstance: &kpp.CmdStartInstance{Name: "t", Config: cfg}}})
	return k.ret().GetInstanceStatus().InstanceId
}

func (k *kong) close(id int32) {
	k.send(&kpp.RpcCall{Call: &kpp.RpcCall_CmdCloseInstance{CmdCloseInstance: &kpp.CmdCloseInstance{InstanceId: id}}})
	k.ret()
}

// event runs one access event, answering each call with an empty frame.
func (k *kong) event(id int32) (calls int) {
	k.send(&kpp.RpcCall{Call: &kpp.RpcCall_CmdHandleEvent{CmdHandleEvent: &kpp.CmdHandleEvent{InstanceId: id, EventName: "access"}}})
	for {
		m, err := readFrame(k.r)
		if err != nil {
			k.t.Fatal(err)
		}
		if len(m) == 0 {
			k.ret()
			return calls
		}
		if _, err := readFrame(k.r); err != nil {
			k.t.Fatal(err)
		}
		calls++
		if _, err := k.c.Write(appendFrame(nil, nil)); err != nil {
			k.t.Fatal(err)
		}
	}
}

// 10,000 start/event/close cycles, as Kong's config churn produces: the
// registry ends empty, and goroutines and heap come back to where they
// were.
func TestStartCloseCyclesStayFlat(t *testing.T) {
	s, dial := serve(t)
	k := dial()
	cycle := func(i int) {
		id := k.start(i+1, "m")
		if n := k.event(id); n != 1 {
			t.Fatalf("cycle %d: %d calls", i, n)
		}
		k.close(id)
	}
	for i := 0; i < 200; i++ { // warm up pools and caches
		cycle(i)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for i := 200; i < 10200; i++ {
		cycle(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := s.instances.len(); n != 0 {
		t.Fatalf("%d instances left after closing all", n)
	}
	if g := runtime.NumGoroutine(); g > g0+2 {
		t.Fatalf("goroutines %d → %d", g0, g)
	}
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("10,000 cycles: heap %+d bytes, goroutines %d → %d", grew, g0, runtime.NumGoroutine())
	if grew > 1<<20 {
		t.Fatalf("heap grew by %d bytes over 10,000 cycles", grew)
	}

	// The same over a new connection per cycle (Kong does not always get a
	// pooled one): connection goroutines end with their connections.
	for i := 0; i < 300; i++ {
		kk := dial()
		id := kk.start(20000+i, "m")
		kk.event(id)
		kk.close(id)
		kk.c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > g0+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > g0+2 {
		t.Fatalf("goroutines after 300 connections: %d → %d", g0, g)
	}
}

// Instances Kong never closes (a deleted plugin) are reaped once they have
// been idle for IdleTimeout, whatever the registry's size; used ones
// stay. Every instance that goes (closed by Kong, replaced by a restart
// with the same __seq__, reaped) has its config value closed, once.
func TestInstancesThatGoAreClosed(t *testing.T) {
	s, dial := serve(t) // IdleTimeout: 15 min
	k := dial()
	closed := func() map[string]int {
		closedMu.Lock()
		defer closedMu.Unlock()
		m := map[string]int{}
		for k, v := range closedConfigs {
			m[k] = v
		}
		return m
	}
	ids := []int32{k.start(1001, "idle"), k.start(1002, "used"), k.start(1003, "closed")}
	k.close(ids[2])
	k.start(1002, "restarted") // replaces "used"
	s.instances.get(ids[0]).lastEvent.Store(time.Now().Add(-2 * time.Hour).UnixNano())
	k.start(1004, "new")
	for _, inst := range s.instances.reap(time.Now()) { // what the reaper does every reapEvery
		inst.close()
	}
	if s.instances.get(ids[0]) != nil {
		t.Fatal("the idle instance was kept")
	}
	for _, id := range []int32{1002, 1004} {
		if s.instances.get(id) == nil {
			t.Fatalf("instance %d was dropped", id)
		}
	}
	got := closed()
	for _, msg := range []string{"idle", "used", "closed"} {
		if got[msg] != 1 {
			t.Errorf("config %q closed %d times, want 1 (all: %v)", msg, got[msg], got)
		}
	}
	if got["restarted"] != 0 || got["new"] != 0 {
		t.Errorf("a live instance's config was closed: %v", got)
	}
	if n := s.instances.len(); n != 2 {
		t.Fatalf("%d instances", n)
	}
}

func TestSequenceIsTheInstanceID(t *testing.T) {
	_, dial := serve(t)
	k := dial()
	if id := k.start(42, "x"); id != 42 {
		t.Fatalf("id %d, want Kong's __seq__ 42", id)
	}
	// Kong restarts a config after a reset with the same __seq__: the new
	// instance replaces the old one.
	if id := k.start(42, "y"); id != 42 {
		t.Fatalf("id %d", id)
	}
	if id := k.start(0, "z"); id <= 0 {
		t.Fatalf("random id %d", id)
	}
}

// BenchmarkEvent is one access event with one deferred-free PDK call over
// a Unix socket, Kong side included.
func BenchmarkEvent(b *testing.B) {
	_, dial := serve(b)
	k := dial()
	id := k.start(1, "m")
	b.ReportAllocs()
	for b.Loop() {
		k.event(id)
	}
}

// BenchmarkEventMetrics is BenchmarkEvent with metrics off and on: on, an
// event reads the clock twice and observes two histograms.
func BenchmarkEventMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "metrics=off"
		if on {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) {
			if on {
				metrics.Enable("pstest", "0.0.0")
			} else {
				metrics.Disable()
			}
			defer metrics.Disable()
			_, dial := serve(b)
			k := dial()
			id := k.start(1, "m")
			b.ReportAllocs()
			for b.Loop() {
				k.event(id)
			}
		})
	}
}
