package whep

import (
	"errors"
	"io"

	"github.com/wisp-media/wisp/datarelay"
)

// Sizes of the buffer a viewer's data channel is drained with.
const (
	// drainBuffer is the usual read buffer: players send wisp nothing it uses, so a small buffer
	// serves, grown only while a larger message is read.
	drainBuffer = 512
	// drainMax bounds the growth: larger than any message SCTP delivers here (pion's maximum
	// message size is 64 KiB), so a player's message never ends its relay subscription.
	drainMax = 256 << 10
)

// drain reads and discards what the player sends on a data channel until the channel or the
// session closes; then the relay stops offering it messages.
func drain(raw io.Reader, sub *datarelay.Subscription) {
	defer sub.Close()
	buf := make([]byte, drainBuffer)
	for {
		var err error
		if buf, err = discardMessage(raw, buf); err != nil {
			return
		}
	}
}

// discardMessage reads one message into buf and returns the buffer to read the next one with.
// A message larger than buf stays queued and pion's ReadDataChannel answers io.ErrShortBuffer
// with a length of 0, so the buffer doubles (up to drainMax) and the read is tried again; once the
// large message is read the small buffer comes back, so a viewer keeps no large buffer.
func discardMessage(raw io.Reader, buf []byte) ([]byte, error) {
	for {
		_, err := raw.Read(buf)
		switch {
		case err == nil:
			if len(buf) > drainBuffer {
				return make([]byte, drainBuffer), nil
			}
			return buf, nil
		case errors.Is(err, io.ErrShortBuffer) && len(buf) < drainMax:
			buf = make([]byte, min(2*len(buf), drainMax))
		default:
			return buf, err
		}
	}
}
