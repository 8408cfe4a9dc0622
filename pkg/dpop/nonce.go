package dpop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// Nonces issues and checks server nonces (RFC 9449 §8, §9) without state:
// a nonce is base64url(issued-at seconds, 8 bytes ‖ HMAC-SHA256(secret,
// those 8 bytes) cut to 16 bytes), 32 characters. The issue time is the
// start of the current rotation period, so every client gets the same
// nonce within a period and a new one after it (§8.2 "Providing a New
// Nonce Value"). A nonce is accepted for two periods from its issue time:
// through the whole of the next period, during which successful answers
// carry its successor, so a client that keeps sending requests never sees
// use_dpop_nonce. The secret is per process (ProcessNonceSecret): nonces survive
// config changes but not a plugin restart, and another gateway node does
// not accept them (a client then gets one use_dpop_nonce answer with that
// node's nonce).
type Nonces struct {
	secret []byte
	period time.Duration
	now    func() time.Time
}

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

// Current is the nonce of the current period.
func (n *Nonces) Current() string {
	p := int64(n.period / time.Second)
	return n.make(n.now().Unix() / p * p)
}

func (n *Nonces) make(issued int64) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(issued))
	m := hmac.New(sha256.New, n.secret)
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return b64.EncodeToString(b[:])
}

// Valid reports whether nonce was issued by this process within the last
// two periods; current tells whether it is Current().
func (n *Nonces) Valid(nonce string) (valid, current bool) {
	if len(nonce) != 32 {
		return false, false
	}
	b, err := b64.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false, false
	}
	issued := int64(binary.BigEndian.Uint64(b[:8]))
	if !hmac.Equal([]byte(n.make(issued)), []byte(nonce)) {
		return false, false
	}
	now := n.now().Unix()
	p := int64(n.period / time.Second)
	if issued > now || now-issued >= 2*p {
		return false, false
	}
	return true, issued == now/p*p
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
