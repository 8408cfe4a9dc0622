package redisstore

import (
	"context"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Reporter receives the warning that a Redis outage began, once per
// outage: gateway.Request implements it and logs it at warn with outcome
// "accepted", whatever the request's own verdict.
type Reporter interface {
	Warn(e *errcode.Error)
}

// Store is one config's view of a Redis: the shared Client, the key
// prefix, the timeout and what to do when Redis fails.
type Store struct {
	client   *Client
	prefix   string
	timeout  time.Duration
	tolerant bool
	closed   atomic.Bool
}

// New returns the store of s, or nil with policy local. It does not dial.
// The store holds its pool until Close.
func New(s *Settings) (*Store, error) {
	if s == nil || s.Redis == nil {
		return nil, nil
	}
	cl, err := Open(s.Redis)
	if err != nil {
		return nil, err
	}
	return &Store{client: cl, prefix: s.Prefix, timeout: s.Timeout, tolerant: s.FaultTolerant}, nil
}

// Close gives the store's pool back: the last store of a pool closes it.
// Call it once no request can use the store any more (operations after it
// fail with REDIS_UNAVAILABLE); a second Close does nothing. A nil store
// (policy local) closes too.
func (s *Store) Close() error {
	if s != nil && s.closed.CompareAndSwap(false, true) {
		s.client.release()
	}
	return nil
}

// Client returns the shared connection pool.
func (s *Store) Client() *Client { return s.client }

// FaultTolerant reports whether a Redis failure falls back to local state.
func (s *Store) FaultTolerant() bool { return s.tolerant }

// Timeout is the bound of one operation (redis.timeout_ms).
func (s *Store) Timeout() time.Duration { return s.timeout }

// Key is the Redis key of a hashed datum: prefix, kind, hex of the hash.
// Every key is a single slot of its own in a Cluster (no operation spans
// two keys), and holds nothing but the hash.
func (s *Store) Key(kind string, h []byte) string {
	b := make([]byte, 0, len(s.prefix)+len(kind)+1+2*len(h))
	b = append(b, s.prefix...)
	b = append(b, kind...)
	b = append(b, ':')
	return string(hex.AppendEncode(b, h))
}

// Do runs op against Redis within the timeout. When Redis fails (an error
// other than redis.Nil, or no answer in time, or a failure in the last
// RetryInterval):
//   - a fault-tolerant store returns local=true and no error: the caller
//     continues with its process-local state; the first such fallback of
//     an outage hands the warning to rep;
//   - a strict store returns the REDIS_UNAVAILABLE error (503).
func (s *Store) Do(ctx context.Context, rep Reporter, op func(ctx context.Context, rdb redis.UniversalClient) error) (local bool, err error) {
	e, _ := s.client.do(ctx, s.timeout, op)
	if e == nil {
		return false, nil
	}
	if !s.tolerant {
		return false, e.With("fault_tolerant", "false")
	}
	if rep != nil && s.client.warned.CompareAndSwap(false, true) {
		rep.Warn(errcode.New(errcode.RedisUnavailable, "%s; continuing with process-local state until redis answers again (fault_tolerant)", e.Detail).
			With("redis", s.client.conn.describe()).With("redis_error", e.Field("redis_error")).With("fault_tolerant", "true"))
	}
	return true, nil
}

type reporterKey struct{}

// WithReporter returns ctx carrying rep, for code that reaches a Store
// through layers that only pass a context (the introspection client).
func WithReporter(ctx context.Context, rep Reporter) context.Context {
	return context.WithValue(ctx, reporterKey{}, rep)
}

// ReporterFrom returns the Reporter ctx carries, or nil.
func ReporterFrom(ctx context.Context) Reporter {
	rep, _ := ctx.Value(reporterKey{}).(Reporter)
	return rep
}
