package oauth

import (
	"sync"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

// reported remembers, per remote key set, the fetch count at which its last
// failure was reported, so each failed fetch is logged once, not once per
// request. Fetches are themselves rate-limited by jwks_min_refresh_seconds.
var reported sync.Map // *jwks.RemoteSet → int64

// staleWarning returns a warning when the token was accepted with keys
// kept from an earlier fetch because the latest fetch failed
// (stale-if-error), the first time that failure is seen.
func (a *Authenticator) staleWarning() *errcode.Error {
	var rs *jwks.RemoteSet
	switch k := a.keys.(type) {
	case *jwks.RemoteSet:
		rs = k
	case *discoveredKeys:
		rs = k.current()
	}
	if rs == nil {
		return nil
	}
	err := rs.LastError()
	if err == nil {
		return nil
	}
	n := rs.Fetches()
	if prev, ok := reported.Load(rs); ok && prev.(int64) == n {
		return nil
	}
	reported.Store(rs, n)
	e := errcode.From(err)
	w := errcode.New(e.Code, "serving cached keys of %s: the last fetch failed: %s", rs.URL(), e.Detail).With("stale_keys", "true")
	for k, v := range e.Fields() {
		w = w.With(k, v)
	}
	return w
}
