package jwks

import (
	"encoding/json"
	"errors"
)

// ParsePublicKey reads one public JWK (RFC 7517 §4), such as the "jwk"
// header of a DPoP proof (RFC 9449 §4.2). The rules are those of Parse,
// except that whatever Parse would skip is an error here (a single key has
// nothing to fall back on) and symmetric "oct" keys are always refused: a
// key that verifies must not also sign.
func ParsePublicKey(raw json.RawMessage) (*Key, error) {
	k, skip, err := parseKey(raw, false)
	if err != nil {
		return nil, err
	}
	if skip != "" {
		return nil, errors.New(skip)
	}
	return k, nil
}
