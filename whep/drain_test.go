package whep

import (
	"errors"
	"io"
	"testing"
)

// queuedMessages reads like pion's detached data channel: a message larger than the buffer stays
// queued and the read answers io.ErrShortBuffer with a length of 0.
type queuedMessages struct{ msgs [][]byte }

func (q *queuedMessages) Read(p []byte) (int, error) {
	if len(q.msgs) == 0 {
		return 0, io.EOF
	}
	if len(q.msgs[0]) > len(p) {
		return 0, io.ErrShortBuffer
	}
	n := copy(p, q.msgs[0])
	q.msgs = q.msgs[1:]
	return n, nil
}

// A player's message larger than the drain buffer (up to SCTP's 64 KiB) is read and discarded,
// and the channel is drained on (it ended the viewer's relay subscription before:
// TestViewerDataChannelTalksBack failed when the large message was read before the relayed ones
// were delivered).
func TestDiscardMessageGrowsForLargeMessages(t *testing.T) {
	q := &queuedMessages{msgs: [][]byte{[]byte("hello"), make([]byte, 5000), make([]byte, 65536), []byte("x")}}
	buf := make([]byte, drainBuffer)
	for i := range 4 {
		var err error
		if buf, err = discardMessage(q, buf); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if len(buf) != drainBuffer {
			t.Fatalf("after message %d the buffer is %d bytes, want %d back", i, len(buf), drainBuffer)
		}
	}
	if _, err := discardMessage(q, buf); !errors.Is(err, io.EOF) {
		t.Fatalf("end of channel: %v", err)
	}
	// A message past the bound ends the drain instead of growing without limit.
	q = &queuedMessages{msgs: [][]byte{make([]byte, drainMax+1)}}
	if _, err := discardMessage(q, buf); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("oversized message: %v", err)
	}
}
