package pluginserver

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/Kong/go-pdk/bridge"
	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
	"google.golang.org/protobuf/proto"
)

// Conn is one connection from a Kong worker, as handlers see it. It is a
// net.Conn, so go-pdk's own API works over it unchanged (pdk.Init(conn)),
// and it adds what go-pdk's bridge lacks:
//
//   - Writes are buffered and sent in one write(2) just before the next
//     read. go-pdk writes each PDK call as four writes (the length and the
//     payload of the method frame and of the args frame); here a call is one
//     syscall, and Kong's cosocket wakes once.
//   - Defer sends a call whose reply is empty (set_headers, authenticate,
//     log.*, set_serialize_value…) without waiting for it. Kong's bridge loop
//     (pb_rpc.lua Rpc:call) reads a call, runs it, writes its reply and reads
//     the next one; it never needs the Go side to have read the previous
//     reply. The owed replies are read and dropped before the next read, and
//     the last deferred calls leave in the same write as the end of the event
//     (or as kong.response.exit). Kong still runs every call in program order
//     before the event ends, so a deferred set_headers lands before the
//     upstream request and a deferred log line before the exit.
//   - Batch sends several independent calls in one write and reads their
//     replies together: one round trip instead of one per call.
//
// A Conn is used by one goroutine at a time (the server's, then the event
// handler's): it has no locks.
type Conn struct {
	nc net.Conn
	r  *bufio.Reader

	out     []byte // frames written but not yet sent
	mark    int    // len(out) after the last complete call
	pending int    // replies Kong owes for deferred calls
	flushed bool   // a write went out that no read has waited on yet

	exited bool // kong.response.exit was sent: Kong never answers again
	broken bool // an I/O error: the stream state is unknown

	stats Stats
}

// Stats counts one event's traffic.
type Stats struct {
	// Calls is the number of PDK calls sent through Ask, Batch and Defer
	// (calls made through go-pdk's API directly are not counted).
	Calls int
	// Deferred is how many of them were not waited for.
	Deferred int
	// Writes is the number of write(2) calls.
	Writes int
	// Waits is the number of times the handler waited for Kong: PDK round
	// trips. The event itself is one more.
	Waits int
}

// ErrExited is returned by every call after kong.response.exit: Kong never
// answers it, and nothing may follow it.
var ErrExited = errors.New("pluginserver: the event ended with kong.response.exit")

func newConn(nc net.Conn) *Conn {
	return &Conn{nc: nc, r: bufio.NewReaderSize(nc, 16<<10)}
}

// Read serves go-pdk's bridge: pending writes go out and owed replies are
// dropped first.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.sync(); err != nil {
		return 0, err
	}
	c.noteWait()
	n, err := c.r.Read(p)
	if err != nil {
		c.broken = true
	}
	return n, err
}

// Write buffers p; it goes out with the next read (or the end of the event).
func (c *Conn) Write(p []byte) (int, error) {
	if c.exited {
		return 0, ErrExited
	}
	c.out = append(c.out, p...)
	return len(p), nil
}

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.nc.Close() }

// The rest of net.Conn.
func (c *Conn) LocalAddr() net.Addr                { return c.nc.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr               { return c.nc.RemoteAddr() }
func (c *Conn) SetDeadline(t time.Time) error      { return c.nc.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.nc.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// Stats returns the counters of the current event.
func (c *Conn) Stats() Stats { return c.stats }

// Defer sends a call whose reply the handler does not need. Use it only
// for calls that answer nothing: their reply is dropped unread.
func (c *Conn) Defer(method string, args proto.Message) error {
	if err := c.appendCall(method, args); err != nil {
		return err
	}
	c.pending++
	c.stats.Deferred++
	return nil
}

// Call is one PDK call of a Batch; Out receives the reply (nil: ignored).
type Call struct {
	Method string
	Args   proto.Message
	Out    proto.Message
}

// Ask makes one call and waits for its reply.
func (c *Conn) Ask(method string, args, out proto.Message) error {
	return c.Batch(Call{method, args, out})
}

// Batch sends the calls in one write and reads their replies in order.
// The calls must not depend on each other's effects.
func (c *Conn) Batch(calls ...Call) error {
	for _, call := range calls {
		if err := c.appendCall(call.Method, call.Args); err != nil {
			return err
		}
	}
	if err := c.sync(); err != nil {
		return err
	}
	var firstErr error
	for _, call := range calls {
		c.noteWait()
		frame, err := readFrame(c.r)
		if err != nil {
			c.broken = true
			return err
		}
		if call.Out != nil && firstErr == nil {
			firstErr = proto.Unmarshal(frame, call.Out)
		}
	}
	return firstErr
}

// Exit sends kong.response.exit after any deferred calls, in one write,
// and closes the connection once Kong has answered the deferred calls.
// Kong never answers exit itself: it ends the request and drops the
// socket (kong-go-plugins.md §3.5); go-pdk's Exit waits for that, Exit
// here does not. Closing early is safe: Kong reads the exit frames from
// its receive buffer before it sees the end of the stream.
func (c *Conn) Exit(status int, body []byte, headers map[string][]string) error {
	h, err := bridge.WrapHeaders(headers)
	if err != nil {
		return err
	}
	if err := c.appendCall("kong.response.exit", &kpp.ExitArgs{Status: int32(status), Body: body, Headers: h}); err != nil {
		return err
	}
	err = c.sync()
	c.exited = true
	c.nc.Close()
	return err
}

// Exited reports whether the event ended with kong.response.exit.
func (c *Conn) Exited() bool { return c.exited }

func (c *Conn) appendCall(method string, args proto.Message) error {
	if c.exited {
		return ErrExited
	}
	if c.broken {
		return errBroken
	}
	var payload []byte
	if args != nil {
		var err error
		if payload, err = proto.Marshal(args); err != nil {
			return err
		}
	}
	c.out = appendStringFrame(c.out, method)
	c.out = appendFrame(c.out, payload)
	c.mark = len(c.out)
	c.stats.Calls++
	return nil
}

var errBroken = errors.New("pluginserver: connection broken")

// sync sends the buffered frames and drops the replies owed for deferred
// calls.
func (c *Conn) sync() error {
	if err := c.flush(); err != nil {
		return err
	}
	for c.pending > 0 {
		c.noteWait()
		if err := discardFrame(c.r); err != nil {
			c.broken = true
			return err
		}
		c.pending--
	}
	return nil
}

func (c *Conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	if c.broken {
		return errBroken
	}
	_, err := c.nc.Write(c.out)
	c.stats.Writes++
	c.flushed = true
	c.out, c.mark = c.out[:0], 0
	if cap(c.out) > 64<<10 {
		c.out = nil // do not pin a large body's buffer to a pooled connection
	}
	if err != nil {
		c.broken = true
	}
	return err
}

// noteWait counts a round trip: the first read that has to wait for Kong
// after something was sent.
func (c *Conn) noteWait() {
	if c.flushed && c.r.Buffered() == 0 {
		c.stats.Waits++
		c.flushed = false
	}
}

// abandonPartial drops the frames of a call that go-pdk had begun writing
// when its handler panicked: they were never sent (writes go out only on a
// read), and a half call would desynchronise Kong's bridge loop.
func (c *Conn) abandonPartial() { c.out = c.out[:c.mark] }

// beginEvent resets the per-event state of a pooled connection.
func (c *Conn) beginEvent() {
	c.stats = Stats{}
	c.flushed = false
}

// endEvent sends the end of the event (an empty frame) and the RpcReturn,
// after any deferred calls, in one write.
func (c *Conn) endEvent(ret []byte) error {
	c.out = appendFrame(c.out, nil)
	c.out = appendFrame(c.out, ret)
	c.mark = len(c.out)
	return c.flush()
}

// reply sends the RpcReturn of a non-event command.
func (c *Conn) reply(ret []byte) error {
	c.out = appendFrame(c.out, ret)
	c.mark = len(c.out)
	return c.flush()
}

// readCall reads the next command from Kong (after dropping owed replies).
func (c *Conn) readCall() ([]byte, error) {
	if err := c.sync(); err != nil {
		return nil, err
	}
	return readFrame(c.r)
}

// Handlers reach their event's Conn from the *pdk.PDK go-pdk's API gives
// them (pkg/gateway uses it for deferred and batched calls).
var byPDK sync.Map // *pdk.PDK → *Conn
