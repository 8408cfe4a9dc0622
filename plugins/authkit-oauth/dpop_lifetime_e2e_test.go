package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/internal/redistest"
)

// TestDPoPRaisedLifetimeReplay (issue 23, defect 2): a proof spent under
// dpop_proof_lifetime 2 s is captured and replayed after the config is
// changed to 600 s (Kong starts a new instance in the same plugin
// process), once the 2 s entry has expired: refused, with policy local
// and with policy redis (whose key had the same 2 s TTL). RFC 9449 §11.1:
// a jti is kept for as long as any config could accept its proof. Before
// the fix the replay passed.
func TestDPoPRaisedLifetimeReplay(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	s := dpopSigner(t, newEC(t, "client"))
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
	rs := redistest.Start(t, redistest.Options{})
	policies := map[string][]any{
		"local": nil,
		"redis": {"policy", "redis", "fault_tolerant", false, "redis", map[string]any{"host": "127.0.0.1", "port": rs.Port,
			"key_prefix": fmt.Sprintf("e2e%d:", time.Now().UnixNano()), "timeout_ms": 5000}},
	}
	for name, extra := range policies {
		t.Run(name, func(t *testing.T) {
			const short = 2
			srv := startPlugin(t)
			cfg := func(lifetime int) map[string]any {
				return baseCfg(p, append([]any{"proof_of_possession_dpop", "optional", "leeway_seconds", 0, "dpop_proof_lifetime", lifetime}, extra...)...)
			}
			old := srv.StartInstance(t, cfg(short))
			iat := time.Now().Unix()
			captured := proofFor(t, s, tok, "iat", iat)
			accepted(t, old.Access(t, dpopReq(tok, captured)))
			spent := time.Now()
			// The old entry is gone by iat + lifetime, or one second after
			// the spend (the store's shortest TTL), whichever is later.
			gone := time.Unix(iat+short, 0)
			if spent.Add(time.Second).After(gone) {
				gone = spent.Add(time.Second)
			}
			time.Sleep(time.Until(gone.Add(100 * time.Millisecond)))

			raised := srv.StartInstance(t, cfg(600))
			dpopRefused(t, raised.Access(t, dpopReq(tok, captured)), 401, "OAUTH_DPOP_PROOF_EXPIRED", "invalid_dpop_proof")
			// A fresh proof passes the new config, and is spent for good.
			fresh := proofFor(t, s, tok)
			accepted(t, raised.Access(t, dpopReq(tok, fresh)))
			dpopRefused(t, raised.Access(t, dpopReq(tok, fresh)), 401, "OAUTH_DPOP_PROOF_REPLAYED", "invalid_dpop_proof")
		})
	}
}

// TestDPoPRaisedLifetimeRollingNodes: two nodes share a Redis; node A
// gets the raised config (600 s) while node B still runs the old one
// (2 s). A proof spent at B after A's raise, with B's 2 s TTL in Redis,
// is refused at A once that TTL ended: A grants the new window in full
// only to proofs made one new window after its raise, and B must lag by
// more than that for a replay to pass (the case the README leaves open).
// Before the fix A accepted the replay.
func TestDPoPRaisedLifetimeRollingNodes(t *testing.T) {
	issuer := newRSA(t, "as-1")
	p := newProvider(t, issuer)
	s := dpopSigner(t, newEC(t, "client"))
	tok := issuer.mint(t, boundClaims(p.issuer(), s.Thumbprint()))
	rs := redistest.Start(t, redistest.Options{})
	redis := map[string]any{"host": "127.0.0.1", "port": rs.Port, "key_prefix": fmt.Sprintf("e2e%d:", time.Now().UnixNano()), "timeout_ms": 5000}
	cfg := func(lifetime int) map[string]any {
		return baseCfg(p, "proof_of_possession_dpop", "optional", "leeway_seconds", 0, "dpop_proof_lifetime", lifetime,
			"policy", "redis", "fault_tolerant", false, "redis", redis)
	}
	const short = 2
	a, b := startPlugin(t), startPlugin(t)
	// A served traffic under the old config before it got the new one
	// (configs compile at their first request).
	accepted(t, a.StartInstance(t, cfg(short)).Access(t, dpopReq(tok, proofFor(t, s, tok))))
	lagging := b.StartInstance(t, cfg(short))
	raised := a.StartInstance(t, cfg(600))
	accepted(t, raised.Access(t, dpopReq(tok, proofFor(t, s, tok))))

	iat := time.Now().Unix()
	captured := proofFor(t, s, tok, "iat", iat)
	accepted(t, lagging.Access(t, dpopReq(tok, captured)))
	spent := time.Now()
	gone := time.Unix(iat+short, 0) // B's Redis TTL: iat + 2 s, at least 1 s
	if spent.Add(time.Second).After(gone) {
		gone = spent.Add(time.Second)
	}
	time.Sleep(time.Until(gone.Add(100 * time.Millisecond)))
	dpopRefused(t, raised.Access(t, dpopReq(tok, captured)), 401, "OAUTH_DPOP_PROOF_EXPIRED", "invalid_dpop_proof")
}
