package redisstore

import (
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// Pool lifetime. Kong compiles a config per plugin instance and starts new
// instances on every config change; a rotated password or a new timeout
// must not open pools that stay forever (issue 23, defect 3: 64 distinct
// settings used to make the next config fail with CONFIG_INVALID, and the
// old pools kept their connections).
//
// A pool is shared by every Store whose Conn has the same pool key, and is
// counted: Open takes a reference, Client.release gives one back, and the
// last release closes the pool and its connections. Callers release when no
// request can use the store any more (gateway releases a compiled config
// after its grace period, see gateway.ReleaseGrace). There is no bound on
// the number of pools: every pool is held by a live compiled config, so
// the pools are bounded by the configs Kong runs, and a bound could only
// refuse a valid config.
//
// The pool key is every setting that changes what a connection is or who
// it authenticates as: mode, addresses, master name, user, password (or
// password_env), database, TLS and its checks. It is not
// timeout_ms: every wait of an operation is bounded by the operation's
// context (Client.do), and the pool's dial timeout is the newest opener's
// (dialer), so configs that differ only in timeout_ms share one pool.
var (
	poolsMu sync.Mutex
	pools   = map[string]*Client{}
)

// poolTimeout is go-redis's own bound on each wait (dial, read, write,
// pool wait), a backstop behind the operation's deadline: the largest
// timeout_ms.
const poolTimeout = MaxTimeoutMS * time.Millisecond

// poolKey hashes the pool settings, so the map holds no password.
func (c *Conn) poolKey() string {
	k := *c
	k.Timeout = 0
	sum := sha256.Sum256(fmt.Appendf(nil, "%#v", k))
	return string(sum[:])
}

// Open returns the shared Client of c, building it on first use, and
// takes a reference on it: give it back with release (Store.Close). It
// never dials: go-redis connects lazily, on the first command.
func Open(c *Conn) (*Client, error) {
	key := c.poolKey()
	poolsMu.Lock()
	defer poolsMu.Unlock()
	cl, ok := pools[key]
	if !ok {
		cl = newClient(c, key)
		pools[key] = cl
		metrics.Held(metrics.HeldRedisPools, len(pools))
	}
	cl.refs++
	cl.dialTimeout.Store(int64(c.Timeout))
	return cl, nil
}

func newClient(c *Conn, key string) *Client {
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	cl := &Client{conn: *c, key: key}
	cl.dialTimeout.Store(int64(c.Timeout))
	opts, err := c.options()
	if err != nil {
		cl.setupErr = errcode.Wrap(errcode.RedisUnavailable, err).With("redis", c.describe()).With("redis_error", "config")
		opts, _ = c.withPassword("")
	}
	opts.Dialer = cl.dialer()
	cl.rdb = redis.NewUniversalClient(opts)
	return cl
}

// release gives back a reference taken by Open; the last one closes the
// pool (its connections and go-redis's goroutines).
func (cl *Client) release() {
	poolsMu.Lock()
	cl.refs--
	last := cl.refs == 0
	if last && pools[cl.key] == cl {
		delete(pools, cl.key)
		metrics.Held(metrics.HeldRedisPools, len(pools))
	}
	poolsMu.Unlock()
	if last {
		_ = cl.rdb.Close()
	}
}

// Pools is the number of open pools in the process (metrics, tests).
func Pools() int {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	return len(pools)
}

var _ io.Closer = (*Store)(nil)
