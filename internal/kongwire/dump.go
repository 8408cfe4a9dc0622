package kongwire

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Info is the JSON printed by `<plugin> -dump` (go-pdk server/os.go
// dumpInfo). Kong reads Protocol and Plugins[0] only; SocketPath is ignored
// (kong-go-plugins.md §1.3).
type Info struct {
	Protocol   string
	SocketPath string
	Plugins    []PluginInfo
}

// PluginInfo is one entry of Info.Plugins: Kong maps Name→name,
// Phases→phases, Version→VERSION, Priority→PRIORITY, Schema→schema (§1.3).
type PluginInfo struct {
	Name     string
	Phases   []string
	Version  string
	Priority int
	Schema   json.RawMessage
}

// versionRE is what Kong's DAO accepts for a plugin VERSION: x.y.z, and
// x.y in practice (§1.2 step 3).
var versionRE = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)

var dumpCache = struct {
	sync.Mutex
	m map[string]*Info
}{m: map[string]*Info{}}

// Dump runs `<bin> -dump` the way Kong's query_cmd does (§1.2 step 2) and
// fails the test unless stdout is exactly one JSON object followed by a
// newline and nothing else — any extra stdout output makes Kong fail to start.
// It also checks what Kong checks on load: Protocol "ProtoBuf:1" (anything
// else selects another RPC implementation), at least one plugin, a version of
// the form x.y[.z]. Stderr is allowed (Kong does not read it).
func Dump(t testing.TB, bin string) *Info {
	t.Helper()
	info, err := cachedDump(bin)
	if err != nil {
		t.Fatalf("kongwire: %v", err)
	}
	return info
}

func dump(bin string) (*Info, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-dump")
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// A -race binary sleeps 1 s at exit unless told otherwise.
	cmd.Env = append(cmd.Environ(), "GORACE=atexit_sleep_ms=0")
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s -dump: %v\nstderr: %s", bin, err, stderr.Bytes())
	}
	out := stdout.Bytes()
	if len(out) == 0 || out[0] != '{' {
		return nil, fmt.Errorf("%s -dump: stdout is not a JSON object (Kong: failed decoding plugin info): %q", bin, out)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s -dump: decoding stdout: %v (Kong: failed decoding plugin info): %q", bin, err, out)
	}
	rest := out[dec.InputOffset():]
	if string(rest) != "\n" {
		return nil, fmt.Errorf("%s -dump: stdout must be exactly one JSON object plus a newline; trailing bytes %q (Kong fails to start)", bin, rest)
	}
	var info Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%s -dump: %v", bin, err)
	}
	if info.Protocol != "ProtoBuf:1" {
		return nil, fmt.Errorf("%s -dump: Protocol %q, want \"ProtoBuf:1\" (Kong would select another RPC codec)", bin, info.Protocol)
	}
	if len(info.Plugins) == 0 {
		return nil, fmt.Errorf("%s -dump: no Plugins", bin)
	}
	p := info.Plugins[0]
	if !versionRE.MatchString(p.Version) {
		return nil, fmt.Errorf("%s -dump: VERSION %q does not follow the \"x.y.z\" format (Kong refuses to load the plugin)", bin, p.Version)
	}
	if len(p.Schema) == 0 {
		return nil, fmt.Errorf("%s -dump: plugin %q has no Schema", bin, p.Name)
	}
	return &info, nil
}

// cachedDump is Dump memoized per binary path (Kong also runs the query
// command once per process).
func cachedDump(bin string) (*Info, error) {
	dumpCache.Lock()
	defer dumpCache.Unlock()
	if info, ok := dumpCache.m[bin]; ok {
		return info, nil
	}
	info, err := dump(bin)
	if err != nil {
		return nil, err
	}
	dumpCache.m[bin] = info
	return info, nil
}
