// Package e2e runs the authkit plugins in a real Kong Gateway (3.7+, found
// through AUTHKIT_KONG) and talks to them only through Kong's proxy and
// Admin API over plain HTTP on 127.0.0.1: every plugin and documented
// outcome, Kong's own semantics (identity headers upstream, logical OR
// with bundled auth plugins, hide_credentials, run_on_preflight,
// kong.client.authenticate), the lifecycle (POST /config, kong reload, two
// workers, a killed plugin process), the CLI on real logs, and the schema
// as Kong enforces it. Without AUTHKIT_KONG the real-Kong tests skip (and
// fail when CI is set): see internal/realkong.
//
// It also holds the probe differential test: one test plugin
// (testdata/plugins/authkit-probe) makes every kind of PDK call the
// plugins make, under internal/kongwire and under real Kong, and both must
// give what Kong 3.9.3 was observed to give (docs/kong-behaviour.md).
package e2e

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/realkong"
)

func TestMain(m *testing.M) { realkong.Main(m) }
