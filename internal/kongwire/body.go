package kongwire

import (
	"fmt"
	"os"
	"path/filepath"

	kpp "github.com/Kong/go-pdk/server/kong_plugin_protocol"
)

// DefaultClientBodyBufferSize is Kong's nginx_http_client_body_buffer_size
// (kong/templates/kong_defaults.lua: 8k).
const DefaultClientBodyBufferSize = 8 << 10

// rawBody is kong.request.get_raw_body as a go-pdk plugin gets it from
// Kong 3.9.3 (observed in a real Kong 3.9.3, and in its source):
//
//   - nginx keeps a request body of at most client_body_buffer_size in
//     memory; a larger one is written to a temporary file under
//     <prefix>/client_body_temp (error.log warns "a client request body is
//     buffered to a temporary file"). ngx.req.read_body marks the file
//     persistent until the request ends.
//   - kong/pdk/request.lua:714-727: get_raw_body() without
//     max_allowed_file_size then returns nil, "request body did not fit into
//     client body buffer, consider raising 'client_body_buffer_size'".
//   - kong/runloop/plugin_servers/rpc/pb_rpc.lua:156-166 wraps that into
//     RawBodyResult{body_filepath = ngx.req.get_body_file()}: the plugin gets
//     the path, not the body (and the error only when there is no file).
//   - go-pdk v0.11.2 request.go:220-221 then reads the file with
//     ioutil.ReadFile: the whole body, whatever its size (Kong's
//     client_max_body_size is 0, unlimited), and only if the plugin process
//     can open Kong's file; a plugin server run outside Kong's filesystem
//     (external process management, another container) gets an error.
//
// The model spools every body larger than ClientBodyBufferSize. Real nginx
// keeps a little more in memory (a Content-Length body up to 1.25× the
// buffer plus what it read with the headers: 11,111 bytes with the default
// buffer in one measurement), so tests should stay well clear of the edge.
func (e *event) rawBody() (*kpp.RawBodyResult, error) {
	body := e.req.Body
	if len(body) <= e.s.clientBodyBufferSize() {
		return &kpp.RawBodyResult{Kind: &kpp.RawBodyResult_Content{Content: append([]byte{}, body...)}}, nil
	}
	n := e.s.spoolSeq.Add(1)
	name := fmt.Sprintf("%010d", n)
	if e.s.BodyFileUnreachable {
		// Kong's path, on a filesystem the plugin process does not see.
		return &kpp.RawBodyResult{Kind: &kpp.RawBodyResult_BodyFilepath{BodyFilepath: filepath.Join(e.s.Prefix, "kong-side", "client_body_temp", name)}}, nil
	}
	dir := filepath.Join(e.s.Prefix, "client_body_temp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, func() { os.Remove(path) }) // nginx removes it when the request ends
	return &kpp.RawBodyResult{Kind: &kpp.RawBodyResult_BodyFilepath{BodyFilepath: path}}, nil
}

func (s *Server) clientBodyBufferSize() int {
	if s.ClientBodyBufferSize > 0 {
		return s.ClientBodyBufferSize
	}
	return DefaultClientBodyBufferSize
}
