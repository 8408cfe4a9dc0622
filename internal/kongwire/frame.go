package kongwire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// maxFrame bounds a frame we are willing to allocate; a corrupt length
// prefix then shows up as a protocol error instead of an OOM.
const maxFrame = 64 << 20

// readFrame reads one frame of the plugin-socket protocol: a uint32
// little-endian length followed by that many bytes (kong-go-plugins.md §3.1;
// Kong's read_frame in pb_rpc.lua, go-pdk's readPbFrame).
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("kongwire: frame of %d bytes exceeds limit", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// writeFrame writes one length-prefixed frame (§3.1). An empty payload is
// the "nil/void" reply of a PDK call.
func writeFrame(w io.Writer, payload []byte) error {
	buf := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[4:], payload)
	_, err := w.Write(buf)
	return err
}
