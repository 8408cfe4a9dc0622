// Package kongwire is a wire-level fake of Kong 3.9's plugin-server side
// (kong/runloop/plugin_servers/pb_rpc.lua) that drives a real go-pdk
// (v0.11.2) plugin executable exactly as Kong does: it builds the plugin,
// runs `-dump` and checks the JSON (kong-go-plugins.md §1.2, §1.3), validates
// and normalizes plugin configs the way Kong's schema does (§1.4, §2.1),
// starts the plugin process with -kong-prefix and waits for its socket (§1.1,
// §2.4), and serves the PDK calls of each event over the ProtoBuf:1 framing
// with Kong's semantics (§3.1–§3.7).
//
// Typical use:
//
//	bin := kongwire.Build(t, "my-plugin")
//	srv := kongwire.Start(t, bin)
//	inst := srv.StartInstance(t, map[string]any{"header_name": "X-Foo"})
//	res := inst.Access(t, &kongwire.Request{Path: "/x"})
//
// Protocol errors that Kong turns into a 500 because the plugin misbehaved
// (a Lua error raised by a PDK function, an unknown PDK method, an event
// timeout) fail the test with t.Errorf; a crashed plugin process ("closed")
// is only recorded in Result.Err so that tests can assert on it.
package kongwire
