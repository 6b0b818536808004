package datarelay

import (
	"encoding/binary"
	"errors"
)

// AllLabels subscribes to the messages of every label, each delivered as one binary message in
// the Frame format so that the label and the text flag travel with it. A node pulling a stream
// from another node subscribes so, and Unframe gives it back the publisher's messages to publish
// into its own Relay: one ordered channel carries every label, in the publisher's order.
const AllLabels = "\x00all"

// ErrFrame is returned by Unframe for a message that is not a Frame.
var ErrFrame = errors.New("datarelay: malformed frame")

// Frame encodes m as flags (1 byte: bit 0 text), label length (2 bytes, big endian), label, data.
func Frame(m Message) []byte {
	b := make([]byte, 3+len(m.Label)+len(m.Data))
	if m.Text {
		b[0] = 1
	}
	binary.BigEndian.PutUint16(b[1:3], uint16(len(m.Label)))
	n := copy(b[3:], m.Label)
	copy(b[3+n:], m.Data)
	return b
}

// Unframe decodes a Frame. The returned Data aliases b.
func Unframe(b []byte) (Message, error) {
	if len(b) < 3 || b[0] > 1 {
		return Message{}, ErrFrame
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	if len(b) < 3+n {
		return Message{}, ErrFrame
	}
	return Message{Text: b[0] == 1, Label: string(b[3 : 3+n]), Data: b[3+n:]}, nil
}
