package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	// EnvListen is the environment variable that enables the listener when
	// the -metrics-listen flag is not given. A plugin process started by
	// Kong sees almost no environment (nginx clears it): the variable
	// reaches it only through KONG_NGINX_MAIN_ENV=AUTHKIT_METRICS_LISTEN.
	// Prefer the flag, on the START_CMD line.
	EnvListen = "AUTHKIT_METRICS_LISTEN"
	// Path is where the metrics are served.
	Path = "/metrics"
)

// ListenAddr resolves a listen address: an address without a host
// (":9542") binds 127.0.0.1, never every interface; a port is required.
// Binding another interface has to be asked for ("0.0.0.0:9542").
func ListenAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("metrics listen address %q: %w (want host:port or :port)", addr, err)
	}
	if port == "" {
		return "", fmt.Errorf("metrics listen address %q has no port", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Handler serves the registry in Prometheus's text (or negotiated)
// format. Scrapes are bounded: a few at a time, each within 10 s.
func Handler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// Listener is a running /metrics endpoint.
type Listener struct {
	srv  *http.Server
	addr net.Addr
}

// Addr is the bound address.
func (l *Listener) Addr() net.Addr { return l.addr }

// Close stops serving and frees the port (for a successor process).
func (l *Listener) Close() error { return l.srv.Close() }

// Serve listens on addr (see ListenAddr) and serves Path in the
// background. It returns the listener, or the error that kept it from
// listening; errors after that go to logf. Nothing here ends the process:
// a metrics listener that fails must never stop the plugin from serving
// Kong.
func Serve(addr string, logf func(format string, args ...any)) (*Listener, error) {
	a, err := ListenAddr(addr)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", a)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("metrics: serving %s stopped: %v", l.Addr(), err)
		}
	}()
	return &Listener{srv: srv, addr: l.Addr()}, nil
}
