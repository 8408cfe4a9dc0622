package basicauth

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// Authenticator is a compiled authkit-basic config.
type Authenticator struct {
	policy  *gateway.Policy
	static  *Store
	file    *credfile.Watched[*Store]
	hide    bool
	cache   *verifiedCache
	lockout *Lockout
	shared  *sharedLockout // policy redis
}

// Authenticate reads Proxy-Authorization, then Authorization (Kong's
// basic-auth order), and verifies the password.
func (a *Authenticator) Authenticate(r *gateway.Request) (*gateway.Identity, error) {
	header := "Proxy-Authorization"
	user, pass, err := ParseHeader(r.Header(header))
	if errors.Is(err, ErrNoCredentials) {
		header = "Authorization"
		user, pass, err = ParseHeader(r.Header(header))
	}
	if errors.Is(err, ErrNoCredentials) {
		return nil, errcode.New(errcode.BasicMissing, "no Basic credentials in Proxy-Authorization or Authorization")
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.BasicMalformed, err).With("header", header)
	}
	fp := secret.Fingerprint(user)

	store := a.static
	if a.file != nil {
		if store, err = a.file.Get(); err != nil {
			return nil, errcode.Wrap(errcode.ConfigInvalid, err)
		}
	}

	a0 := newAttempt(store, user, pass)
	var ok bool
	if a.shared != nil {
		pair := a.lockout.pairKey(store, user, r.ClientIP())
		var left time.Duration
		var locked bool
		if a.cache.cached(a0) {
			left, locked, err = a.shared.Cached(r, pair)
			ok = !locked
		} else {
			ok, left, locked, err = a.shared.Attempt(r, pair, a0.key, func() bool { return a.cache.verify(a0) })
		}
		if err != nil {
			return nil, err
		}
		if locked {
			return nil, a.lockedOut(fp, left)
		}
	} else if a.lockout == nil {
		ok = a.cache.cached(a0) || a.cache.verify(a0)
	} else {
		pair := a.lockout.pairKey(store, user, r.ClientIP())
		// A locked pair is refused even with the right password, cached
		// or not; a cached right password needs no slot; anything else
		// is verified only once it holds one of the pair's slots.
		if left, locked := a.lockout.Locked(pair); locked {
			return nil, a.lockedOut(fp, left)
		}
		if a.cache.cached(a0) {
			a.lockout.Succeed(pair)
			ok = true
		} else {
			var left time.Duration
			var locked bool
			if ok, left, locked = a.lockout.Attempt(pair, a0.key, func() bool { return a.cache.verify(a0) }); locked {
				return nil, a.lockedOut(fp, left)
			}
		}
	}
	if !ok {
		// Same code, same message, same work for an unknown user and a
		// wrong password; only the log (fingerprint) tells them apart for
		// nobody: the fingerprint is of the user name, not the verdict.
		return nil, errcode.New(errcode.BasicInvalidCredentials, "unknown user or wrong password").With("credential", fp)
	}
	u := a0.u
	id := &gateway.Identity{Consumer: u.consumer, CredentialID: u.name}
	if a.file != nil && store.warning != "" && store.warned.CompareAndSwap(false, true) {
		// A credentials_file is read at run time: its warning is logged
		// once per version of the file, with the first request it serves.
		id.Warning = errcode.New(errcode.ConfigInvalid, "config warning: credentials_file: %s", store.warning).With("warning", "true")
	}
	if a.hide {
		id.Headers = map[string]string{header: ""}
	}
	return id, nil
}

func (a *Authenticator) lockedOut(fp string, left time.Duration) error {
	secs := int(math.Ceil(left.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return errcode.New(errcode.BasicLockedOut, "user locked out for this client after %d failures", a.lockout.Max).
		With("credential", fp).With("retry_after", secs).WithHeader("Retry-After", strconv.Itoa(secs))
}

// Warnings are the compiled config's warnings (authkit check prints them).
func (a *Authenticator) Warnings() []string { return a.policy.Warnings }

// Policy is the gateway's side of the compiled config (gateway.Compiled).
func (a *Authenticator) Policy() *gateway.Policy { return a.policy }

var _ gateway.Compiled = (*Authenticator)(nil)
