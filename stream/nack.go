package stream

import (
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// nackBufs holds payload buffers for retransmissions, so answering a NACK allocates nothing.
var nackBufs = sync.Pool{New: func() any { return new([maxPayload]byte) }}

// HandleNACK retransmits, from the Track's shared ring, the packets a viewer reports lost
// (RFC 4585 §6.2.1 generic NACK). ssrc is the viewer's media SSRC (the NACK's MediaSSRC). Packets
// no longer cached are skipped. It returns how many packets were resent. Safe for concurrent use;
// called from the viewer's RTCP reader.
func (t *Track) HandleNACK(n *rtcp.TransportLayerNack) int {
	b := t.binding(n.MediaSSRC)
	if b == nil {
		return 0
	}
	buf := nackBufs.Get().(*[maxPayload]byte)
	defer nackBufs.Put(buf)
	var h rtp.Header
	sent := 0
	for i := range n.Nacks {
		n.Nacks[i].Range(func(seq uint16) bool {
			size, ts, marker, codec, ok := t.ring.readSeq(seq, buf[:])
			if !ok {
				return true
			}
			pt, ok := b.pt[codec]
			if !ok {
				return true
			}
			h = rtp.Header{Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: seq,
				Timestamp: b.timestamp(ts), SSRC: b.ssrc}
			if _, err := b.writer.WriteRTP(&h, buf[:size]); err == nil {
				sent++
			}
			return true
		})
	}
	t.resent.Add(uint64(sent))
	return sent
}

// binding returns the binding with the given SSRC, or nil.
func (t *Track) binding(ssrc uint32) *binding {
	for _, w := range t.workers {
		for _, b := range *w.bindings.Load() {
			if b.ssrc == ssrc {
				return b
			}
		}
	}
	return nil
}
