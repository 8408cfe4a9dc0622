package oauth

// Close releases what the compiled config holds of process-wide state: its
// holds on shared key sets and discovery documents (dropped from the
// process when no other config holds them) and the idle connections of its
// HTTP client. The gateway calls it once no plugin instance uses the
// config any more (after a grace for requests in flight); a request still
// running keeps working: a released set answers, an HTTP client whose idle
// connections were closed dials again. Close is idempotent.
func (a *Authenticator) Close() error {
	a.closeOnce.Do(func() {
		for _, release := range a.releases {
			release()
		}
		if a.httpc != nil {
			a.httpc.CloseIdleConnections()
		}
	})
	return nil
}
