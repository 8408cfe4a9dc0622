package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// TestDPoPNonceAcrossNodes (issue 23): two plugin processes are two
// gateway nodes behind a load balancer that is not sticky. With policy
// redis a nonce issued by node A is accepted by node B (each period's
// secret is shared through Redis, RFC 9449 §8, §9), so a client that
// switches nodes never sees a second use_dpop_nonce; with policy local
// each process signs nonces with its own secret and B answers
// use_dpop_nonce with its own nonce. Then Redis stops: strict refuses
// with 503 REDIS_UNAVAILABLE, fault tolerant falls back to per-node
// nonces.
func TestDPoPNonceAcrossNodes(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	s := dpopSigner(t, newEC(t, "client"))
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
	rs := redistest.Start(t, redistest.Options{})
	t.Cleanup(rs.Resume)
	redisCfg := func(tolerant bool, timeoutMS int) []any {
		return []any{"policy", "redis", "fault_tolerant", tolerant, "redis", map[string]any{"host": "127.0.0.1", "port": rs.Port,
			"key_prefix": fmt.Sprintf("e2e%d:", time.Now().UnixNano()), "timeout_ms": timeoutMS}}
	}
	nodes := func(extra []any) []*kongwire.Instance {
		return twoOAuthNodes(t, baseCfg(p, append([]any{"proof_of_possession_dpop", "optional", "dpop_use_nonce", true}, extra...)...))
	}
	// nonceFrom asks node for a nonce the way a client learns one.
	nonceFrom := func(t *testing.T, node *kongwire.Instance) string {
		res := node.Access(t, dpopReq(tok, proofFor(t, s, tok)))
		dpopRefused(t, res, 401, "OAUTH_DPOP_NONCE_REQUIRED", "use_dpop_nonce")
		return res.Header("DPoP-Nonce")
	}

	t.Run("policy redis: one nonce for every node", func(t *testing.T) {
		n := nodes(redisCfg(false, 5000))
		// Each node's nonce passes at the other (equal within a period;
		// not compared, as the two answers may straddle a rotation).
		for from := 0; from < 2; from++ {
			nonce := nonceFrom(t, n[from])
			for i := 0; i < 4; i++ {
				accepted(t, n[(from+i+1)%2].Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", nonce))))
			}
		}
		if keys, _ := rs.Cmd("DBSIZE"); keys == "0" {
			t.Fatal("no nonce secret in Redis")
		}
	})
	t.Run("policy local: a nonce per node", func(t *testing.T) {
		n := nodes(nil)
		nonce := nonceFrom(t, n[0])
		accepted(t, n[0].Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", nonce))))
		res := n[1].Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", nonce)))
		dpopRefused(t, res, 401, "OAUTH_DPOP_NONCE_INVALID", "use_dpop_nonce")
		if own := res.Header("DPoP-Nonce"); own == "" || own == nonce {
			t.Fatalf("node B's nonce %q", own)
		}
	})
	t.Run("redis down", func(t *testing.T) {
		strict := startPlugin(t).StartInstance(t, baseCfg(p, append([]any{"proof_of_possession_dpop", "optional", "dpop_use_nonce", true}, redisCfg(false, 200)...)...))
		tolerant := nodes(redisCfg(true, 200))
		rs.Pause()
		defer rs.Resume()
		refused(t, strict.Access(t, dpopReq(tok, proofFor(t, s, tok))), tok, 503, "REDIS_UNAVAILABLE")
		nonce := nonceFrom(t, tolerant[0]) // the node's own nonce
		accepted(t, tolerant[0].Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", nonce))))
		dpopRefused(t, tolerant[1].Access(t, dpopReq(tok, proofFor(t, s, tok, "nonce", nonce))), 401, "OAUTH_DPOP_NONCE_INVALID", "use_dpop_nonce")
	})
}
