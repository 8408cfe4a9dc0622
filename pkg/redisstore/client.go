package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// RetryInterval is how long a failed Redis is left alone: during it every
// operation fails at once (a fault-tolerant store goes local, a strict one
// answers 503) instead of each request waiting timeout_ms for a server
// that just failed. The first request after it tries Redis again, so the
// plugins recover within RetryInterval of Redis coming back.
const RetryInterval = time.Second

// Client is one connection pool with its health, shared by every config
// that names the same Redis (same pool key, pool.go) in this process: Kong
// compiles a config per route and restarts instances on every change, and
// none of that may open new pools. It lives while a Store holds it.
type Client struct {
	conn Conn
	rdb  redis.UniversalClient
	key  string
	refs int // Stores holding it; guarded by poolsMu
	// dialTimeout (nanoseconds) bounds a dial and a TLS handshake: the
	// timeout_ms of the newest config that opened the pool.
	dialTimeout atomic.Int64
	// setupErr is a configuration problem found when the pool was built
	// (password_env unset): every operation fails with it.
	setupErr *errcode.Error

	// handshakeFailed: the last TLS handshake did not complete.
	handshakeFailed atomic.Bool

	retryAt  atomic.Int64 // unix nanos before which Redis is not tried; 0 = healthy
	lastErr  atomic.Pointer[errcode.Error]
	warned   atomic.Bool // this outage's warning was handed out
	outages  atomic.Int64
	failures atomic.Int64
}

// quiet drops go-redis's own log lines: a plugin process's stderr lands in
// Kong's error.log, one line per failed dial, while the plugin reports an
// outage once, as an authkit line.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

func (c *Conn) describe() string {
	s := c.Mode + " " + strings.Join(c.Addrs, ",")
	if c.SentinelMaster != "" {
		s += " master " + c.SentinelMaster
	}
	if c.SSL {
		s += " (TLS)"
	}
	return s
}

// options builds go-redis's options. The password comes from the process
// environment when password_env is set: Kong starts plugin processes with
// an empty environment unless KONG_NGINX_MAIN_ENV names the variable.
func (c *Conn) options() (*redis.UniversalOptions, error) {
	pw := c.Password
	if c.PasswordEnv != "" {
		v, ok := os.LookupEnv(c.PasswordEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("redis.password_env: %s is not set in the plugin process's environment (Kong passes a variable to plugin processes only when KONG_NGINX_MAIN_ENV=%s is set)", c.PasswordEnv, c.PasswordEnv)
		}
		pw = v
	}
	return c.withPassword(pw)
}

func (c *Conn) withPassword(pw string) (*redis.UniversalOptions, error) {
	o := &redis.UniversalOptions{
		Addrs:    c.Addrs,
		DB:       c.Database,
		Username: c.Username,
		Password: pw,
		// RESP2 and no CLIENT SETINFO / maintenance notifications: the
		// connection sends only what a least-privilege ACL allows (HELLO
		// is tried and, when refused, AUTH is used).
		Protocol:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		// Every wait is bounded by the operation's context, which carries
		// the config's timeout_ms (Client.do; ContextTimeoutEnabled makes
		// go-redis use its deadline for dial, read, write and the pool
		// wait). The pool's own timeouts are only a backstop, the largest
		// timeout_ms: so timeout_ms is not a pool setting, and configs
		// that differ only in it share one pool (pool.go).
		DialTimeout:           poolTimeout,
		ReadTimeout:           poolTimeout,
		WriteTimeout:          poolTimeout,
		PoolTimeout:           poolTimeout,
		ContextTimeoutEnabled: true,
		// One retry on a fresh connection: after a Redis restart, pooled
		// connections are dead and the first command on each fails.
		MaxRetries:      1,
		MinRetryBackoff: -1,
		MaxRetryBackoff: -1,
		DialerRetries:   1,
		PoolSize:        64,
		MinIdleConns:    0,
		ConnMaxIdleTime: time.Minute,
		IsClusterMode:   c.Mode == ModeCluster,
	}
	if c.Mode == ModeSentinel {
		o.MasterName = c.SentinelMaster
		// Sentinels of an ACL-protected deployment take the same
		// credentials (requirepass on the sentinels).
		o.SentinelUsername = c.Username
		o.SentinelPassword = pw
	}
	return o, nil
}

// dialer dials within the client's dial timeout (the timeout_ms of the
// newest config that opened the pool: go-redis dials in the background,
// detached from the operation that asked, so the operation's deadline
// does not end the dial) and, with ssl, completes the TLS handshake
// itself, so that a handshake that fails or never ends (ssl against a
// plain Redis port: the server waits for a command line that never comes)
// is reported as a TLS problem, not as a bare timeout.
func (cl *Client) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	c := &cl.conn
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		timeout := time.Duration(cl.dialTimeout.Load())
		d := net.Dialer{Timeout: timeout}
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil || !c.SSL {
			return raw, err
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: !c.SSLVerify} //nolint:gosec // ssl_verify: false is the operator's explicit, warned choice
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		tc := tls.Client(raw, cfg)
		// The operation's deadline may end the wait before this returns:
		// the flag tells classify that the time went into the handshake.
		cl.handshakeFailed.Store(true)
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls: handshake with %s: %w", addr, err)
		}
		cl.handshakeFailed.Store(false)
		return tc, nil
	}
}

// Redis returns the go-redis client (tests, the probe).
func (cl *Client) Redis() redis.UniversalClient { return cl.rdb }

// Outages is the number of outages seen so far (a healthy→failed change).
func (cl *Client) Outages() int64 { return cl.outages.Load() }

// do runs op under the timeout and keeps the client's health: a failure
// opens the RetryInterval window, a success closes the outage. The
// returned error is always a REDIS_UNAVAILABLE *errcode.Error; started
// reports whether this failure began an outage.
func (cl *Client) do(ctx context.Context, timeout time.Duration, op func(ctx context.Context, rdb redis.UniversalClient) error) (err *errcode.Error, started bool) {
	if cl.setupErr != nil {
		return cl.setupErr, cl.fail(cl.setupErr)
	}
	if at := cl.retryAt.Load(); at != 0 && time.Now().UnixNano() < at {
		e := cl.lastErr.Load()
		return e.With("retry_in_ms", (at-time.Now().UnixNano())/1e6), false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if opErr := op(ctx, cl.rdb); opErr != nil && !errors.Is(opErr, redis.Nil) {
		if cl.handshakeFailed.Load() && errors.Is(opErr, context.DeadlineExceeded) {
			opErr = fmt.Errorf("tls: no handshake answer within timeout_ms (is the port a plain, non-TLS Redis?): %w", opErr)
		}
		e := classify(opErr, timeout).With("redis", cl.conn.describe())
		metrics.ProviderCall(metrics.EndpointRedis, start, e)
		return e, cl.fail(e)
	}
	metrics.ProviderCall(metrics.EndpointRedis, start, nil)
	if cl.retryAt.Load() != 0 {
		cl.retryAt.Store(0)
		cl.warned.Store(false)
	}
	return nil, false
}

func (cl *Client) fail(e *errcode.Error) bool {
	cl.failures.Add(1)
	cl.lastErr.Store(e)
	was := cl.retryAt.Swap(time.Now().Add(RetryInterval).UnixNano())
	if was == 0 {
		cl.outages.Add(1)
		return true
	}
	return false
}

// classify names what went wrong, for the log line and the probe.
func classify(err error, timeout time.Duration) *errcode.Error {
	msg := err.Error()
	var netErr net.Error
	var opErr *net.OpError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &recErr) || strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return errcode.New(errcode.RedisUnavailable, "TLS handshake with redis failed (ssl on a plain port, or a certificate problem): %s", msg).With("redis_error", "tls")
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return errcode.New(errcode.RedisUnavailable, "redis did not answer within timeout_ms (%d ms): %s", timeout.Milliseconds(), msg).With("redis_error", "timeout")
	case strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOAUTH") || strings.Contains(msg, "failed to authenticate") ||
		strings.Contains(msg, "invalid password") || strings.Contains(msg, "invalid username-password"):
		return errcode.New(errcode.RedisUnavailable, "redis refused the credentials: %s", msg).With("redis_error", "auth")
	case strings.HasPrefix(msg, "NOPERM") || strings.Contains(msg, "can't run this command"):
		return errcode.New(errcode.RedisUnavailable, "redis ACL forbids a command or key authkit uses: %s", msg).With("redis_error", "acl")
	case errors.As(err, &opErr) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "EOF") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe"):
		return errcode.New(errcode.RedisUnavailable, "redis is unreachable: %s", msg).With("redis_error", "connect")
	}
	return errcode.New(errcode.RedisUnavailable, "redis failed: %s", msg).With("redis_error", "other")
}
