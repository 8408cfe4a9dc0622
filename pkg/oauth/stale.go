package oauth

import (
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/jwks"
)

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
	err := rs.FailureToReport()
	if err == nil {
		return nil
	}
	e := errcode.From(err)
	w := errcode.New(e.Code, "serving cached keys of %s: the last fetch failed: %s", rs.URL(), e.Detail).With("stale_keys", "true")
	for k, v := range e.Fields() {
		w = w.With(k, v)
	}
	return w
}
