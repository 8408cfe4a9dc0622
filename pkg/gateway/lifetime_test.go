package gateway

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/pluginserver"
)

type closingConfig struct{ closed atomic.Int32 }

func (c *closingConfig) Close() error { c.closed.Add(1); return nil }

func newMeta(t *testing.T, x string) *Meta {
	t.Helper()
	var m Meta
	if err := DecodeConfig([]byte(`{"x":"`+x+`"}`), &struct {
		X string `json:"x"`
	}{}, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// waitFor polls cond until deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A compiled config is shared by the instances of one config, outlives
// the last of them by ReleaseGrace, and is then closed once; one taken
// again within the grace stays.
func TestCompiledConfigReleasedAfterLastInstance(t *testing.T) {
	defer func(d time.Duration) { pluginserver.ReleaseGrace = d }(pluginserver.ReleaseGrace)
	pluginserver.ReleaseGrace = 50 * time.Millisecond
	builds := 0
	v := &closingConfig{}
	build := func() (*closingConfig, error) { builds++; return v, nil }
	a, b := newMeta(t, "release"), newMeta(t, "release")
	before := CompiledConfigs()
	Compile("lt", a, build)
	Compile("lt", b, build)
	if builds != 1 || CompiledConfigs() != before+1 {
		t.Fatalf("%d builds, %d entries", builds, CompiledConfigs()-before)
	}
	a.memo.close()
	a.memo.close() // once only
	time.Sleep(3 * pluginserver.ReleaseGrace)
	if v.closed.Load() != 0 || CompiledConfigs() != before+1 {
		t.Fatal("released while an instance holds it")
	}
	b.memo.close()
	c := newMeta(t, "release") // a restart within the grace keeps it warm
	Compile("lt", c, build)
	time.Sleep(3 * pluginserver.ReleaseGrace)
	if v.closed.Load() != 0 || builds != 1 {
		t.Fatalf("taken again within the grace: closed %d, builds %d", v.closed.Load(), builds)
	}
	c.memo.close()
	waitFor(t, "release", func() bool { return v.closed.Load() == 1 && CompiledConfigs() == before })
	time.Sleep(3 * pluginserver.ReleaseGrace)
	if v.closed.Load() != 1 {
		t.Fatalf("closed %d times", v.closed.Load())
	}
	// A request on a closed instance still gets its config.
	if got, err := Compile("lt", c, build); err != nil || got != v {
		t.Fatalf("closed instance: %v, %v", got, err)
	}
}
