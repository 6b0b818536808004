package stream

import (
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// resendBuf is the scratch space of one NACK answer.
type resendBuf struct {
	payload [maxPayload]byte
	h       rtp.Header
}

// nackBufs holds resendBufs, so answering a NACK allocates nothing.
var nackBufs = sync.Pool{New: func() any { return new(resendBuf) }}

// HandleNACK retransmits, from the Track's shared ring, the packets a viewer reports lost
// (RFC 4585 §6.2.1 generic NACK). ssrc is the viewer's media SSRC (the NACK's MediaSSRC). Packets
// no longer cached are skipped. It returns how many packets were resent. Safe for concurrent use;
// called from the viewer's RTCP reader.
func (t *Track) HandleNACK(n *rtcp.TransportLayerNack) int {
	b := t.binding(n.MediaSSRC)
	if b == nil {
		return 0
	}
	rb := nackBufs.Get().(*resendBuf)
	defer nackBufs.Put(rb)
	buf, h := &rb.payload, &rb.h
	sent := 0
	resend := func(seq uint16) {
		size, ts, marker, codec, ok := t.ring.readSeq(seq, buf[:])
		if !ok {
			return
		}
		pt, ok := b.pt[codec]
		if !ok {
			return
		}
		*h = rtp.Header{Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: seq,
			Timestamp: b.timestamp(ts), SSRC: b.ssrc}
		if _, err := b.writer.WriteRTP(h, buf[:size]); err == nil {
			sent++
		}
	}
	for _, pair := range n.Nacks {
		// The packet id, then one bit per following packet (RFC 4585 §6.2.1).
		resend(pair.PacketID)
		for i := uint16(0); i < 16; i++ {
			if pair.LostPackets&(1<<i) != 0 {
				resend(pair.PacketID + i + 1)
			}
		}
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
