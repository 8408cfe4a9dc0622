package gateway

// ResetConsumerCache empties the process-wide consumer cache, so that a
// test sees load_consumer calls from a cold cache.
func ResetConsumerCache() { consumers.Purge() }

// MemoHasRoute reports whether an instance's memo keeps its metrics Route.
func MemoHasRoute(m *Meta) bool { return m.memo != nil && m.memo.route.Load() != nil }
