//go:build race

package kongwire

// raceEnabled reports whether the test binary runs with the race detector;
// Build then compiles the plugin with -race too, so data races inside the
// plugin's concurrently running handlers (kong-go-plugins.md §3.4) are caught.
const raceEnabled = true
