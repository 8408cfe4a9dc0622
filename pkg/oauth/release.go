package oauth

import "io"

// Close releases what the compiled config holds outside itself: its Redis
// stores (introspection answers, spent DPoP proofs; the last config using
// a pool closes it), its introspection clients (their TTLs stop setting
// how long answers are kept) and its provider client's idle connections.
// The gateway calls it once no instance uses the config and in-flight
// requests have had gateway.ReleaseGrace to finish; a second call does
// nothing. Key sets and discovery documents need no call: the process
// registries hold them weakly, and they go with the last config that
// refers to them.
func (a *Authenticator) Close() error {
	for _, s := range a.stores {
		s.Close()
	}
	a.pop.close()
	for _, release := range a.releases {
		release()
	}
	if a.http != nil {
		a.http.CloseIdleConnections()
	}
	return nil
}

func (p *possession) close() {
	if p != nil {
		p.replay.Close()
	}
}

var _ io.Closer = (*Authenticator)(nil)
