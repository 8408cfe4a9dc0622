package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/redisstore"
)

// redisProbeFlags mirror the `redis` record of the plugins' config.
type redisProbeFlags struct {
	host, username, passwordEnv, serverName, master, prefix string
	port, database                                          int
	ssl, sslVerify                                          bool
	sentinels, cluster                                      []string
}

func (f *redisProbeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.host, "redis-host", "", "Redis server (the redis.host of policy redis)")
	fs.IntVar(&f.port, "redis-port", redisstore.DefaultPort, "port of --redis-host")
	fs.StringVar(&f.username, "redis-username", "", "Redis ACL user")
	fs.StringVar(&f.passwordEnv, "redis-password-env", "AUTHKIT_REDIS_PASSWORD", "environment variable holding the Redis password (empty or unset: none)")
	fs.IntVar(&f.database, "redis-database", 0, "Redis database number")
	fs.BoolVar(&f.ssl, "redis-ssl", false, "connect to Redis with TLS")
	fs.BoolVar(&f.sslVerify, "redis-ssl-verify", true, "check Redis's TLS certificate")
	fs.StringVar(&f.serverName, "redis-server-name", "", "TLS server name of Redis")
	fs.StringVar(&f.master, "redis-sentinel-master", "", "master name monitored by --redis-sentinel-nodes")
	fs.StringSliceVar(&f.sentinels, "redis-sentinel-nodes", nil, "Sentinels, host:port,…")
	fs.StringSliceVar(&f.cluster, "redis-cluster-nodes", nil, "Redis Cluster seed nodes, host:port,…")
	fs.StringVar(&f.prefix, "redis-key-prefix", redisstore.DefaultKeyPrefix, "the redis.key_prefix the plugins use")
}

func (f *redisProbeFlags) set() bool {
	return f.host != "" || f.master != "" || len(f.sentinels) > 0 || len(f.cluster) > 0
}

// config is the redis record these flags describe. The password is taken
// from the environment here, as the plugin takes it with password_env.
func (f *redisProbeFlags) config(getenv func(string) string) redisstore.Config {
	c := redisstore.Config{Host: f.host, Port: &f.port, Username: f.username, Database: &f.database, SSL: f.ssl,
		ServerName: f.serverName, SentinelMaster: f.master, SentinelNodes: f.sentinels, ClusterNodes: f.cluster, KeyPrefix: &f.prefix}
	if f.ssl {
		c.SSLVerify = &f.sslVerify
	}
	if f.passwordEnv != "" {
		c.Password = getenv(f.passwordEnv)
	}
	return c
}

func (f *redisProbeFlags) target() string {
	switch {
	case f.host != "":
		return fmt.Sprintf("%s:%d", f.host, f.port)
	case len(f.cluster) > 0:
		return "cluster " + strings.Join(f.cluster, ",")
	}
	return "sentinel " + strings.Join(f.sentinels, ",") + " master " + f.master
}

// probeRedis connects as the plugins do (policy redis, fault_tolerant
// false) and runs each kind of operation they use on probe keys under the
// key prefix: the lockout script (EVALSHA/EVAL), a versioned write and a
// read (EVAL, SET, GET), a seen-once claim (SET NX PX). Probe keys expire
// within a second. A refusal names what failed: connect, timeout, TLS,
// auth, or an ACL without a command or key authkit needs.
func probeRedis(ctx context.Context, f *redisProbeFlags, timeout time.Duration, getenv func(string) string) probeCheck {
	target := f.target()
	cfg := f.config(getenv)
	ms := int(timeout.Milliseconds())
	cfg.TimeoutMS = &ms
	strict := false
	settings, err := redisstore.Compile(redisstore.PolicyRedis, cfg, &strict)
	if err != nil {
		return failCheck("redis", target, errcode.Wrap(errcode.ConfigInvalid, err))
	}
	st, err := redisstore.New(settings)
	if err != nil {
		return failCheck("redis", target, errcode.Wrap(errcode.ConfigInvalid, err))
	}
	defer st.Close()
	probe := sha256.Sum256(fmt.Appendf(nil, "authkit-probe-%d", time.Now().UnixNano()))
	steps := []struct {
		what string
		run  func() error
	}{
		{"lockout script", func() error { _, _, err := st.LockCheck(ctx, nil, probe[:], 1); return err }},
		{"shared answer write", func() error {
			_, err := st.PutNewer(ctx, nil, "probe", probe[:], redisstore.Version(time.Now(), 0), []byte("probe"), time.Second)
			return err
		}},
		{"shared answer read", func() error { _, _, _, err := st.Get(ctx, nil, "probe", probe[:]); return err }},
		{"seen-once claim", func() error { _, _, err := st.Claim(ctx, nil, "probe", probe[:], time.Second); return err }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			e := errcode.From(err)
			return failCheck("redis", target, errcode.New(e.Code, "%s: %s", s.what, e.Detail))
		}
	}
	return probeCheck{Step: "redis", OK: true, Target: target,
		Info: fmt.Sprintf("connected and authenticated; the lockout script, shared answers and seen-once claims work under %q", f.prefix)}
}
