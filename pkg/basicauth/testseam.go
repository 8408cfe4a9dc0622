//go:build authkit_testseam

package basicauth

import (
	"fmt"
	"os"

	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// Built only with -tags authkit_testseam (the wire-level tests): every slow
// hash verification writes one line to stderr, with the user name's
// fingerprint, which Kong would log at
// info, so tests count hashes through the real binary without timing.
func init() {
	onSlowHash = func(a attempt) {
		fmt.Fprintf(os.Stderr, "%s %s\n", SlowHashMarker, secret.Fingerprint(a.name))
	}
}
