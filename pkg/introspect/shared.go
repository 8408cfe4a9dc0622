package introspect

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// The shared tier (policy redis): answers go to Redis so that every
// gateway node introspects a token once, and a revocation one node sees
// reaches the others. Nothing secret goes there:
//
//   - the key is an HMAC of the token under sharedKey, a per-config secret
//     derived from the gateway's client secret and bound to everything the
//     verdict depends on (endpoint, client id, auth method, token type
//     hint), never the token or a plain hash of it;
//   - the value is the answer's members and when it was fetched, MACed
//     under the same secret together with the key, so that write access to
//     Redis alone cannot forge an active answer, nor move one to another
//     token's key. (With introspection_auth_method none there is no client
//     secret: keys are then plain keyed hashes of public inputs, and the
//     MAC only detects corruption.)
//
// Readers apply their own TTLs to fetched_at, as with the process-local
// cache. The process-local cache stays in front of Redis as a short tier:
// an answer read from or written to Redis is reused locally for at most
// LocalTier before Redis is asked again (or for the whole TTL while a
// fault-tolerant Redis is down), which bounds how late a revocation
// written to Redis by another node is seen here.

// LocalTier is how long an answer confirmed against Redis is reused from
// this process's memory. A revocation stored in Redis by another node is
// seen here at most LocalTier late; in exchange a hot token costs one
// Redis read per LocalTier per process instead of one per request.
const LocalTier = time.Second

// localTier is LocalTier, or 0 in the benchmark without the local tier.
var localTier = LocalTier

// sharedKey derives the per-config MAC key from the client secret.
func sharedKey(o Options) []byte {
	mac := hmac.New(sha256.New, []byte(o.ClientSecret))
	secret.WriteFields(mac, "authkit introspection cache v1", o.Endpoint, o.ClientID, o.AuthMethod, o.TokenTypeHint)
	return mac.Sum(nil)
}

// sharedHash is the Redis key hash of token for this Client.
func (c *Client) sharedHash(token string) []byte {
	mac := hmac.New(sha256.New, c.skey)
	mac.Write(unsafe.Slice(unsafe.StringData(token), len(token)))
	return mac.Sum(nil)
}

// sharedValue is what Redis holds: the answer's JSON, and when it was
// fetched (ms).
type sharedValue struct {
	Fetched int64           `json:"fetched_at"`
	Answer  json.RawMessage `json:"answer"`
}

func (c *Client) valueMAC(h []byte, version string, body []byte) []byte {
	mac := hmac.New(sha256.New, c.skey)
	secret.WriteFields(mac, string(h), version, string(body))
	return mac.Sum(nil)
}

func version(a *Answer, fetched time.Time) string {
	tie := 0
	if !a.Active {
		tie = 1 // at the same fetched_at, a refusal wins
	}
	return redisstore.Version(fetched, tie)
}

// sharedGet reads token's answer from Redis. found is false when there is
// none (or one that does not verify); local is true when a fault-tolerant
// Redis failed; err is REDIS_UNAVAILABLE from a strict one.
func (c *Client) sharedGet(ctx context.Context, h []byte) (a *Answer, fetched time.Time, found, local bool, err error) {
	raw, found, local, err := c.opts.Shared.Get(ctx, redisstore.ReporterFrom(ctx), "intro", h)
	if err != nil || local || !found {
		return nil, time.Time{}, false, local, err
	}
	a, fetched, ok := c.decodeShared(h, raw)
	return a, fetched, ok, false, nil
}

// decodeShared checks the MAC and parses the answer as strictly as a
// provider's (ParseResponse), so the types match those of a fresh answer.
func (c *Client) decodeShared(h, raw []byte) (*Answer, time.Time, bool) {
	macHex, body, ok := bytes.Cut(raw, []byte{'.'})
	if !ok || len(macHex) != 64 {
		return nil, time.Time{}, false
	}
	var v sharedValue
	if json.Unmarshal(body, &v) != nil {
		return nil, time.Time{}, false
	}
	fetched := time.UnixMilli(v.Fetched)
	want := c.valueMAC(h, strconv.FormatInt(v.Fetched, 10), body)
	got := make([]byte, 32)
	if _, err := hex.Decode(got, macHex); err != nil || !hmac.Equal(got, want) {
		return nil, time.Time{}, false
	}
	a, err := ParseResponse(v.Answer)
	if err != nil {
		return nil, time.Time{}, false
	}
	return a, fetched, true
}

// sharedPut stores a fresh answer in Redis for as long as any reader in
// this process could use it (the same lifetime as the local entry).
func (c *Client) sharedPut(ctx context.Context, h []byte, a *Answer, fetched, now time.Time) (local bool, err error) {
	life := entryLife(a, fetched, now)
	if life <= 0 {
		return false, nil
	}
	members := make(map[string]any, len(a.Claims)+1)
	for k, v := range a.Claims {
		members[k] = v
	}
	members["active"] = a.Active
	ans, err := json.Marshal(members)
	if err != nil {
		return false, fmt.Errorf("introspection answer: %w", err)
	}
	ms := fetched.UnixMilli()
	body, _ := json.Marshal(sharedValue{Fetched: ms, Answer: ans})
	val := make([]byte, 0, 65+len(body))
	val = hex.AppendEncode(val, c.valueMAC(h, strconv.FormatInt(ms, 10), body))
	val = append(val, '.')
	val = append(val, body...)
	return c.opts.Shared.PutNewer(ctx, redisstore.ReporterFrom(ctx), "intro", h, version(a, time.UnixMilli(ms)), val, life)
}
