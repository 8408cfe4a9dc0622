package basicauth

import "io"

// Close releases the Redis store of the shared lockout (policy redis; the
// last config using a pool closes it). The gateway calls it once no
// instance uses the config and in-flight requests have had
// gateway.ReleaseGrace to finish; a second call does nothing.
func (a *Authenticator) Close() error {
	if a.shared != nil {
		a.shared.store.Close()
	}
	return nil
}

var _ io.Closer = (*Authenticator)(nil)
