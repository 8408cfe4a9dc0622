package gateway

import (
	"fmt"
	"io"
	"os"

	"github.com/Kong/go-pdk/server/kong_plugin_protocol"
)

// MaxRawBody bounds the request body a plugin reads (API keys in the body,
// token requests): 1 MiB.
const MaxRawBody = 1 << 20

// ErrBodyTooLarge is returned by RawBody for a body larger than MaxRawBody;
// nothing beyond the limit is read.
var ErrBodyTooLarge = fmt.Errorf("request body larger than %d bytes", MaxRawBody)

// RawBody is kong.request.get_raw_body without go-pdk's unbounded read.
//
// A body larger than nginx's client_body_buffer_size (Kong's default: 8k)
// is spooled to a temporary file. Kong 3.9's get_raw_body() then returns
// nil, "request body did not fit into client body buffer"
// (kong/pdk/request.lua:727), and the plugin socket answers with the file's
// path instead (kong/runloop/plugin_servers/rpc/pb_rpc.lua:156-166,
// RawBodyResult.body_filepath). go-pdk v0.11.2's Request.GetRawBody reads
// that file with ioutil.ReadFile (request/request.go:220-221): all of it,
// although Kong's client_max_body_size is 0 (unlimited), so one large
// upload could exhaust the plugin process's memory. This reads at most
// MaxRawBody+1 bytes and reports a larger body as ErrBodyTooLarge. A file
// the plugin cannot open (a plugin server outside Kong's filesystem) is an
// error, never an empty body: callers refuse rather than skip.
func (p pdkKong) RawBody() ([]byte, error) {
	out := new(kong_plugin_protocol.RawBodyResult)
	if err := p.k.Request.Ask("kong.request.get_raw_body", nil, out); err != nil {
		return nil, err
	}
	return bodyOf(out)
}

// bodyOf reads Kong's answer to get_raw_body (see RawBody).
func bodyOf(out *kong_plugin_protocol.RawBodyResult) ([]byte, error) {
	switch x := out.Kind.(type) {
	case *kong_plugin_protocol.RawBodyResult_Content:
		if len(x.Content) > MaxRawBody {
			return nil, ErrBodyTooLarge
		}
		return x.Content, nil
	case *kong_plugin_protocol.RawBodyResult_BodyFilepath:
		return readBodyFile(x.BodyFilepath, MaxRawBody)
	case *kong_plugin_protocol.RawBodyResult_Error:
		return nil, fmt.Errorf("kong.request.get_raw_body: %s", x.Error)
	}
	return nil, nil // an empty body: Kong sends no oneof member for ""
}

// readBodyFile reads a spooled request body, at most limit bytes.
func readBodyFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spooled request body: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, ErrBodyTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("spooled request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}
