package stream

import (
	"testing"

	"github.com/pion/rtcp"
)

// rtcpNack16 asks viewer SSRC 7 for packets 50–66 (a packet id and a full 16-bit mask).
var rtcpNack16 = rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: []rtcp.NackPair{{PacketID: 50, LostPackets: 0xffff}}}

// A NACK is answered from the ring with the viewer's SSRC and payload type and the original
// sequence numbers and payloads; packets never cached are skipped.
func TestHandleNACKFromRing(t *testing.T) {
	tr := newTrack(0, "s", nil)
	w := &recordWriter{}
	bs := []*binding{{id: "v", ssrc: 7, writer: w, pt: map[string]uint8{"video/h264": 102}, live: true}}
	tr.workers[0].bindings.Store(&bs)
	for seq := uint16(1); seq <= 60; seq++ {
		tr.ring.push(seq, uint32(seq)*300, seq%5 == 0, "video/h264", []byte{byte(seq), 1, 2}, false)
	}
	if n := tr.HandleNACK(&rtcpNack16); n != 11 { // 50..60 cached, 61..66 not yet
		t.Fatalf("resent %d, want 11", n)
	}
	for i, p := range w.got {
		seq := uint16(50 + i)
		if p.SequenceNumber != seq || p.SSRC != 7 || p.PayloadType != 102 || p.Timestamp != uint32(seq)*300 ||
			p.Marker != (seq%5 == 0) || p.Payload[0] != byte(seq) || len(p.Payload) != 3 {
			t.Errorf("resent packet %d = %+v", i, p)
		}
	}
	if n := tr.HandleNACK(&rtcp.TransportLayerNack{MediaSSRC: 99, Nacks: rtcpNack16.Nacks}); n != 0 {
		t.Errorf("NACK for an unknown SSRC resent %d packets", n)
	}
}
