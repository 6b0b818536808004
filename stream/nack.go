package stream

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// resendBuf is the scratch space of one NACK answer.
type resendBuf struct {
	payload [maxPayload + 2]byte // room for an RTX header (Pad)
	h       rtp.Header
}

// nackBufs holds resendBufs, so answering a NACK allocates nothing.
var nackBufs = sync.Pool{New: func() any { return new(resendBuf) }}

// HandleNACK retransmits the packets a viewer reports lost (RFC 4585 §6.2.1 generic NACK) from
// the rings of the Feeds that carried them: each of the viewer's sequence numbers is translated
// back through its Output's mapping at the time it was sent (before or after a change of Feed).
// ssrc is the viewer's media SSRC (the NACK's MediaSSRC). Packets no longer cached are skipped. It
// returns how many packets were resent. An output with a resend limit (SetResendLimit) answers
// within it. Safe for concurrent use; called from the viewer's RTCP reader.
func (t *Track) HandleNACK(n *rtcp.TransportLayerNack) int {
	o := t.Output(n.MediaSSRC)
	if o == nil {
		return 0
	}
	last := o.lastOut.Load()
	if last == 0 {
		return 0
	}
	rb := nackBufs.Get().(*resendBuf)
	defer nackBufs.Put(rb)
	buf, h := &rb.payload, &rb.h
	sent := 0
	limit := o.resend.Load()
	var now int64
	if limit != nil {
		now = time.Now().UnixNano()
	}
	resend := func(seq uint16) {
		out := uint64(int64(last) + int64(int16(seq-uint16(last))))
		if out > last {
			return // not sent yet
		}
		seg, ok := o.segmentOf(out)
		if !ok {
			return
		}
		size, m, st := seg.feed.ring.read(out-seg.seqOff, buf[:])
		if st != readOK {
			return
		}
		pt, ok := o.pt[seg.feed.key]
		if !ok {
			return
		}
		if limit != nil && !limit.allow(now, seq, size+12) {
			return
		}
		*h = rtp.Header{Version: 2, Marker: m.marker, PayloadType: pt, SequenceNumber: seq,
			Timestamp: o.sentTimestamp(out, m.ts+seg.tsOff), SSRC: o.ssrc}
		if _, err := o.writer.WriteRTP(h, buf[:size]); err == nil {
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
	o.stats.resent.Add(uint64(sent))
	t.resent.Add(uint64(sent))
	return sent
}
