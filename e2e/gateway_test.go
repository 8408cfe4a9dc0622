package e2e

import "testing"

// TestGateway runs every scenario that can share one Kong (see fixture)
// as subtests, one after another.
func TestGateway(t *testing.T) {
	f := newFixture(t)
	t.Run("probe", func(t *testing.T) { testProbe(t, f) })
}
