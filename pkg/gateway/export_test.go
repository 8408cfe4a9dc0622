package gateway

// ResetConsumerCache empties the process-wide consumer cache, so that a
// test sees load_consumer calls from a cold cache.
func ResetConsumerCache() { consumers.Purge() }
