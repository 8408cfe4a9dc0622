package e2e

import "testing"

// TestGateway runs every scenario that can share one Kong (see fixture)
// as subtests, one after another.
func TestGateway(t *testing.T) {
	f := newFixture(t)
	t.Run("probe", func(t *testing.T) { testProbe(t, f) })
	t.Run("basic", func(t *testing.T) { testBasic(t, f) })
	t.Run("key", func(t *testing.T) { testKey(t, f) })
	t.Run("oauth-jwt", func(t *testing.T) { testOAuthJWT(t, f) })
	t.Run("oauth-hydra", func(t *testing.T) { testOAuthHydra(t, f) })
	t.Run("explain", func(t *testing.T) { testExplain(t, f) })
	t.Run("logical-or", func(t *testing.T) { testLogicalOR(t, f) })
	t.Run("repo-kong-yaml", func(t *testing.T) { testRepoKongYAML(t, f) })
	t.Run("schema", func(t *testing.T) { testSchema(t, f) })
	t.Run("cli-logs", func(t *testing.T) { testCLILogs(t, f) })
}
