package main

import (
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/pkg/dpop"
)

// startPluginEnv is startPlugin with extra environment for the binary.
func startPluginEnv(t *testing.T, env ...string) *kongwire.Server {
	t.Helper()
	s := kongwire.Start(t, kongwire.Build(t, "authkit-oauth"), env...)
	s.SetConsumers(kongwire.Consumer{ID: userID, Username: "user-1"})
	return s
}

// TestDPoPReplayShareFull (issue 23): one client key that spends proofs
// as fast as it can fills its own share of the process's replay store,
// and is refused with OAUTH_DPOP_REPLAY_SHARE_FULL (429, the log names its
// thumbprint), while another key on the same node still passes. The share
// is made test-small with the test-only AUTHKIT_TEST_DPOP_REPLAY_SHARE.
// On the code before the fix a key could spend the whole store.
func TestDPoPReplayShareFull(t *testing.T) {
	const share = 4
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	srv := startPluginEnv(t, dpop.EnvTestReplayShare+"=4")
	inst := srv.StartInstance(t, baseCfg(p, "proof_of_possession_dpop", "optional"))
	greedy, other := dpopSigner(t, newEC(t, "greedy")), dpopSigner(t, newEC(t, "other"))
	greedyTok := issuer.mint(t, boundClaims(p.issuer(), greedy.Thumbprint()))
	otherTok := issuer.mint(t, boundClaims(p.issuer(), other.Thumbprint()))

	for i := 0; i < share; i++ {
		accepted(t, inst.Access(t, dpopReq(greedyTok, proofFor(t, greedy, greedyTok))))
	}
	for i := 0; i < 3; i++ {
		res := inst.Access(t, dpopReq(greedyTok, proofFor(t, greedy, greedyTok)))
		line := kongwire.CheckRefusal(t, res, "authkit-oauth", 429, "OAUTH_DPOP_REPLAY_SHARE_FULL")
		if !strings.Contains(line, `"jkt":"`+greedy.Thumbprint()+`"`) {
			t.Fatalf("the log line does not name the key: %s", line)
		}
		accepted(t, inst.Access(t, dpopReq(otherTok, proofFor(t, other, otherTok))))
	}
}
