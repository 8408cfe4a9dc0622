package apikey

import (
	"encoding/hex"
	"errors"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/credfile"
	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

// Authenticator is a compiled authkit-key config.
type Authenticator struct {
	policy                    *gateway.Policy
	names                     []string
	inHeader, inQuery, inBody bool
	hide                      bool
	static                    *Store
	file                      *credfile.Watched[*Store]
	now                       func() time.Time
}

// Authenticate finds the key, looks up its hash and checks its expiry.
func (a *Authenticator) Authenticate(r *gateway.Request) (*gateway.Identity, error) {
	in := Request{Headers: r.Headers()}
	if a.inQuery {
		q, err := r.RawQuery()
		if err != nil {
			return nil, errcode.Wrap(errcode.InternalError, err)
		}
		in.RawQuery = q
	}
	if a.inBody {
		in.ContentType = r.Header("Content-Type")
		if isBodyType(in.ContentType) {
			// A body beyond MaxBodyBytes is not searched (and not read past
			// the limit); one Kong cannot hand over is an error, never an
			// empty body.
			b, err := r.RawBody()
			switch {
			case errors.Is(err, gateway.ErrBodyTooLarge):
			case err != nil:
				return nil, errcode.Wrap(errcode.InternalError, err)
			default:
				in.Body = b
			}
		}
	}
	found, err := Extract(a.names, in, a.inHeader, a.inQuery, a.inBody)
	switch {
	case errors.Is(err, ErrMissing):
		return nil, errcode.New(errcode.APIKeyMissing, "no key under %v", a.names)
	case errors.Is(err, ErrDuplicate):
		return nil, errcode.New(errcode.APIKeyDuplicate, "key %q given more than once (%s)", found.Name, found.Location).
			With("key_name", found.Name).With("location", found.Location)
	case errors.Is(err, ErrNotAKey):
		return nil, errcode.New(errcode.APIKeyInvalid, "key %q in the %s cannot be a key (a JSON member that is not a string, or a body that does not parse)", found.Name, found.Location).
			With("key_name", found.Name).With("location", found.Location)
	case errors.Is(err, ErrTooLong):
		return nil, errcode.New(errcode.APIKeyInvalid, "key %q longer than %d bytes", found.Name, MaxKeyLen).With("key_name", found.Name)
	case err != nil:
		return nil, errcode.Wrap(errcode.InternalError, err)
	}
	// One SHA-256 serves the lookup and the log fingerprint (its first 8
	// hex digits, the same as secret.Fingerprint and the key_hash prefix).
	h := HashKey(found.Key)
	fp := hex.EncodeToString(h[:4])

	store := a.static
	if a.file != nil {
		if store, err = a.file.Get(); err != nil {
			return nil, errcode.Wrap(errcode.ConfigInvalid, err)
		}
	}
	e := store.lookupHash(h)
	if e == nil {
		return nil, errcode.New(errcode.APIKeyInvalid, "no credential has this key").
			With("credential", fp).With("key_name", found.Name).With("location", found.Location)
	}
	now := time.Now
	if a.now != nil {
		now = a.now
	}
	if !e.expires.IsZero() && !now().Before(e.expires) {
		return nil, errcode.New(errcode.APIKeyExpired, "credential %q expired at %s", e.id, e.expires.Format(time.RFC3339)).
			With("credential", fp).With("credential_id", e.id).With("expired_at", e.expires.Format(time.RFC3339))
	}

	id := &gateway.Identity{Consumer: e.consumer, CredentialID: e.id}
	if a.hide {
		switch found.Location {
		case InHeader:
			id.Headers = map[string]string{found.Name: ""}
		case InQuery:
			q := gateway.StripQueryParam(in.RawQuery, found.Name)
			id.RawQuery = &q
		case InBody:
			id.Body = StripBody(in.Body, in.ContentType, found.Name)
		}
	}
	return id, nil
}

func isBodyType(ct string) bool { return bodyKind(ct) != kindOther }

// Policy is the gateway's side of the compiled config (gateway.Compiled).
func (a *Authenticator) Policy() *gateway.Policy { return a.policy }

var _ gateway.Compiled = (*Authenticator)(nil)
