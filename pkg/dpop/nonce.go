package dpop

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// Nonces issues and checks server nonces (RFC 9449 §8, §9) without
// per-nonce state: a nonce is base64url(issued-at seconds, 8 bytes ‖
// HMAC-SHA256(secret, those 8 bytes) cut to 16 bytes), 32 characters. The
// issue time is the start of the current rotation period, so every client
// gets the same nonce within a period and a new one after it (§8.2
// "Providing a New Nonce Value"). A nonce is accepted for two periods
// from its issue time: through the whole of the next period, during which
// successful answers carry its successor, so a client that keeps sending
// requests never sees use_dpop_nonce.
//
// The secret: without NonceKeys (policy local) it is per process
// (ProcessNonceSecret): nonces survive config changes but not a plugin
// restart, and another gateway node does not accept them (a client then
// gets one use_dpop_nonce answer with that node's nonce). With NonceKeys
// (policy redis) each period has its own random secret, shared by every
// node through the store, so a nonce issued by one node is accepted by
// all; the top bit of the issue time marks such a nonce. Rotation never
// refuses a valid nonce: the nonce names its period, and the previous
// period's secret stays available for as long as its nonces are valid.
type Nonces struct {
	secret []byte
	keys   NonceKeys
	period time.Duration
	now    func() time.Time
}

// NonceKeys hands out the shared secret of one nonce period (policy
// redis): the same secret to every caller, for at least three periods
// after issued. local=true without an error means the shared store is
// unavailable and the caller falls back to the process secret
// (fault_tolerant); an error refuses the request (strict).
type NonceKeys interface {
	NonceKey(ctx context.Context, period time.Duration, issued int64) (key []byte, local bool, err error)
}

// sharedBit marks a nonce made with a NonceKeys secret.
const sharedBit = 1 << 63

// NewNonces rotates nonces every period (≥ 1 s).
func NewNonces(secret []byte, period time.Duration, now func() time.Time) *Nonces {
	if period < time.Second {
		period = time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{secret: secret, period: period, now: now}
}

// Shared returns a copy of n whose nonces are signed with keys' shared
// secrets; secret stays the fallback when keys answer local.
func (n *Nonces) Shared(keys NonceKeys) *Nonces {
	c := *n
	c.keys = keys
	return &c
}

// Current is the nonce of the current period.
func (n *Nonces) Current(ctx context.Context) (string, error) {
	p := int64(n.period / time.Second)
	issued := n.now().Unix() / p * p
	key, shared, err := n.key(ctx, issued, n.keys != nil)
	if err != nil {
		return "", err
	}
	return n.make(key, issued, shared), nil
}

// key is the secret of the period starting at issued: the shared one when
// shared is asked for and available.
func (n *Nonces) key(ctx context.Context, issued int64, shared bool) ([]byte, bool, error) {
	if !shared || n.keys == nil {
		return n.secret, false, nil
	}
	k, local, err := n.keys.NonceKey(ctx, n.period, issued)
	if err != nil || local {
		return n.secret, false, err
	}
	return k, true, nil
}

func (n *Nonces) make(key []byte, issued int64, shared bool) string {
	var b [8 + 16]byte
	v := uint64(issued)
	if shared {
		v |= sharedBit
	}
	binary.BigEndian.PutUint64(b[:8], v)
	m := hmac.New(sha256.New, key)
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return b64.EncodeToString(b[:])
}

// Valid reports whether nonce was issued here (by this process, or with
// NonceKeys by any node sharing them) within the last two periods;
// current tells whether it is the current period's. The issue time is
// checked before any secret is looked up, so a forged nonce costs no
// store round trip unless it names one of the two live periods.
func (n *Nonces) Valid(ctx context.Context, nonce string) (valid, current bool, err error) {
	if len(nonce) != 32 {
		return false, false, nil
	}
	b, err := b64.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false, false, nil
	}
	v := binary.BigEndian.Uint64(b[:8])
	shared, issued := v&sharedBit != 0, int64(v&^sharedBit)
	now := n.now().Unix()
	p := int64(n.period / time.Second)
	if issued > now || now-issued >= 2*p || issued%p != 0 || shared && n.keys == nil {
		return false, false, nil
	}
	key, gotShared, err := n.key(ctx, issued, shared)
	if err != nil || gotShared != shared {
		// The shared secret is out of reach (fault tolerant: the client
		// gets this node's own nonce).
		return false, false, err
	}
	if !hmac.Equal([]byte(n.make(key, issued, shared)), []byte(nonce)) {
		return false, false, nil
	}
	return true, issued == now/p*p, nil
}

var processSecret struct {
	once sync.Once
	b    []byte
}

// ProcessNonceSecret is a random 32-byte key made once per process.
func ProcessNonceSecret() []byte {
	processSecret.once.Do(func() {
		processSecret.b = make([]byte, 32)
		if _, err := rand.Read(processSecret.b); err != nil {
			panic("dpop: no randomness for the nonce secret: " + err.Error())
		}
	})
	return processSecret.b
}
