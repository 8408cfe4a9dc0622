package metrics

// SetRecording switches recording for the benchmarks and returns the
// previous state.
func SetRecording(b bool) bool { return on.Swap(b) }
