package pluginserver

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// The ProtoBuf:1 framing, in both directions: a little-endian uint32 length,
// then the payload (go-pdk server/pbserver.go, Kong's pb_rpc.lua
// read_frame/write_frame).

// maxFrame bounds one frame read from Kong. The largest legitimate frames
// are request bodies (kong.request.get_raw_body) and configs; a length
// beyond this is a broken stream, not data.
const maxFrame = 256 << 20

// appendFrame appends one frame holding payload to b.
func appendFrame(b, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// appendStringFrame is appendFrame for a method name, without a copy.
func appendStringFrame(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// readFrame reads one frame's payload.
func readFrame(r *bufio.Reader) ([]byte, error) {
	n, err := frameLen(r)
	if err != nil {
		return nil, err
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

// discardFrame skips one frame (the reply to a deferred call).
func discardFrame(r *bufio.Reader) error {
	n, err := frameLen(r)
	if err != nil {
		return err
	}
	_, err = r.Discard(n)
	return err
}

func frameLen(r *bufio.Reader) (int, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxFrame {
		return 0, fmt.Errorf("pluginserver: frame of %d bytes exceeds the %d byte limit", n, maxFrame)
	}
	return int(n), nil
}
