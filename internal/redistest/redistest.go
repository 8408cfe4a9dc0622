// Package redistest starts real Redis servers for tests: a single server, a
// three-master Redis Cluster and a Sentinel set (one master, one replica,
// one sentinel), each on free loopback ports in its own temporary
// directory, stopped when the test ends. It uses the Debian package's
// redis-server and redis-cli (.ci/run installs them).
//
// Without redis-server the tests calling Require skip, with one line that
// says so; when CI is set they fail instead, as the real-Kong tests do
// (internal/realkong): CI must never pass by skipping them.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SkipLine is what a test without redis-server says when it skips.
const SkipLine = "redistest: the Redis tests were SKIPPED: redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)"

// Require returns the paths of redis-server and redis-cli, or skips the
// test (fails it when CI is set).
func Require(t testing.TB) (server, cli string) {
	t.Helper()
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 == nil && err2 == nil {
		return server, cli
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("redistest: CI is set but redis-server or redis-cli is missing: the Redis tests must run in CI (.ci/run installs the redis-server package)")
	}
	t.Skip(SkipLine)
	return "", ""
}

// Server is one redis-server process (or a sentinel).
type Server struct {
	Port int
	Dir  string
	args []string
	bin  string
	t    testing.TB

	mu  sync.Mutex
	cmd *exec.Cmd
	log string
}

// Addr is 127.0.0.1:Port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Options of a single server.
type Options struct {
	// Password sets requirepass (the default user's password).
	Password string
	// ACL lines written to an ACL file (users.acl), e.g.
	// "user authkit on >pw ~authkit:* -@all +get".
	ACL []string
	// Args are more redis-server arguments.
	Args []string
}

var portMu sync.Mutex

// freePort returns a loopback port that is free, and whose cluster bus
// port (+10000) is free too.
func freePort(t testing.TB) int {
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 100; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		if p >= 55000 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+10000)))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return p
	}
	t.Fatalf("redistest: no free port pair")
	return 0
}

// Start starts a single redis-server with no persistence.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, _ := Require(t)
	dir := tempDir(t)
	args := []string{"--save", "", "--appendonly", "no"}
	if o.Password != "" {
		args = append(args, "--requirepass", o.Password)
	}
	if len(o.ACL) > 0 {
		f := filepath.Join(dir, "users.acl")
		if err := os.WriteFile(f, []byte(strings.Join(o.ACL, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--aclfile", f)
	}
	args = append(args, o.Args...)
	s := &Server{Dir: dir, args: args, bin: bin, t: t}
	s.start(t)
	return s
}

func tempDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// start runs the server on a free port (a new one after a port race).
func (s *Server) start(t testing.TB) {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if s.Port == 0 || attempt > 0 {
			s.Port = freePort(t)
		}
		if lastErr = s.launch(); lastErr == nil {
			return
		}
	}
	t.Fatalf("redistest: redis-server did not start: %v\n%s", lastErr, s.Log())
}

// launch starts the process on s.Port and waits until it answers PING.
func (s *Server) launch() error {
	args := append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--logfile", filepath.Join(s.Dir, "redis.log"), "--daemonize", "no"}, s.args...)
	if len(s.args) > 0 && strings.HasSuffix(s.args[0], ".conf") {
		// A config file must come first (sentinels).
		args = append([]string{s.args[0], "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir,
			"--logfile", filepath.Join(s.Dir, "redis.log"), "--daemonize", "no"}, s.args[1:]...)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	s.t.Cleanup(func() { s.kill(cmd, exited) })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %s", s.Log())
		default:
		}
		if reply, err := s.Cmd("PING"); err == nil && (reply == "PONG" || strings.HasPrefix(reply, "-NOAUTH")) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill(cmd, exited)
	return fmt.Errorf("no PONG on port %d within 10s", s.Port)
}

func (s *Server) kill(cmd *exec.Cmd, exited chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
}

// Log returns the server's log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	return string(b)
}

// Kill stops the server at once (SIGKILL): a crash.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	_, _ = cmd.Process.Wait()
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	var err error
	for i := 0; i < 50; i++ { // the port may linger a moment
		if err = s.launch(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redistest: restart on port %d: %v", s.Port, err)
}

// Pause stops the process (SIGSTOP): connections are accepted by the
// kernel but nothing answers, so clients time out rather than fail.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.cmd.Process.Signal(sig)
}

// Cmd sends one inline command (words separated by spaces) without
// authentication and returns the first line of the reply ("+OK" as "OK",
// errors with their "-").
func (s *Server) Cmd(words ...string) (string, error) {
	return command(s.Addr(), "", words...)
}

// AuthCmd is Cmd after AUTH with the default user's password.
func (s *Server) AuthCmd(password string, words ...string) (string, error) {
	return command(s.Addr(), password, words...)
}

func command(addr, password string, words ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	send := func(ws []string) (string, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(ws))
		for _, w := range ws {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(w), w)
		}
		if _, err := c.Write([]byte(b.String())); err != nil {
			return "", err
		}
		return readReply(r)
	}
	if password != "" {
		if reply, err := send([]string{"AUTH", password}); err != nil || reply != "OK" {
			return reply, err
		}
	}
	return send(words)
}

// readReply reads one RESP reply and renders it as text: simple strings
// and integers as is, errors with their "-", bulk strings as their
// content, arrays as their elements joined by newlines.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return line, nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		parts := make([]string, 0, max(n, 0))
		for i := 0; i < n; i++ {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return line, nil
}

// Cluster is three redis-server masters joined into a Redis Cluster.
type Cluster struct {
	Nodes []*Server
}

// Addrs are the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// StartCluster starts three masters with cluster mode on and joins them
// with `redis-cli --cluster create` (all 16384 slots covered), waiting
// until every node reports cluster_state:ok.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	_, cli := Require(t)
	c := &Cluster{}
	for i := 0; i < 3; i++ {
		c.Nodes = append(c.Nodes, Start(t, Options{Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000"}}))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for {
			info, _ := n.Cmd("CLUSTER", "INFO")
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster not ok on %s: %s", n.Addr(), info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// Sentinel is a master, a replica of it, and one sentinel monitoring it.
type Sentinel struct {
	Master, Replica, Sentinel *Server
	// MasterName is the name the sentinel monitors ("authkit-master").
	MasterName string
}

// StartSentinel starts the master, its replica and the sentinel, and waits
// until the sentinel names the master and the replica is in sync.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin, _ := Require(t)
	s := &Sentinel{MasterName: "authkit-master"}
	s.Master = Start(t, Options{})
	s.Replica = Start(t, Options{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port)}})
	dir := tempDir(t)
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 2000\nsentinel failover-timeout %s 10000\n",
		s.MasterName, s.Master.Port, s.MasterName, s.MasterName)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Sentinel = &Server{Dir: dir, args: []string{conf, "--sentinel"}, bin: bin, t: t}
	s.Sentinel.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		addr, _ := s.Sentinel.Cmd("SENTINEL", "get-master-addr-by-name", s.MasterName)
		info, _ := s.Replica.Cmd("INFO", "replication")
		if addr == "127.0.0.1\n"+strconv.Itoa(s.Master.Port) && strings.Contains(info, "master_link_status:up") {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: sentinel not ready: %q / %q\n%s", addr, info, s.Sentinel.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
