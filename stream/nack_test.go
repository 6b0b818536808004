package stream

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// rtcpNack16 asks viewer SSRC 7 for packets 50–66 (a packet id and a full 16-bit mask).
var rtcpNack16 = rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: []rtcp.NackPair{{PacketID: 50, LostPackets: 0xffff}}}

// nackOutput makes a started, live output with SSRC 7 (H.264 as payload type 102) on tr's first
// worker, following f; the worker goroutine is not started: tests call fanOut themselves.
func nackOutput(tr *Track, f *Feed, w webrtc.TrackLocalWriter) *Output {
	o := &Output{id: "v", ssrc: 7, kind: tr.kind, writer: w, pt: map[string]uint8{"video/h264": 102}}
	o.live.Store(true)
	o.start(f)
	outs := []*Output{o}
	tr.worker(0).outputs.Store(&outs)
	return o
}

// A NACK is answered from the ring with the viewer's SSRC and payload type and the original
// sequence numbers and payloads; packets never cached, or not sent yet, are skipped.
func TestHandleNACKFromRing(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	f := followedFeed(tr, h264Codec)
	w := &recordWriter{}
	nackOutput(tr, f, w)
	wk := tr.worker(0)
	for seq := uint16(1); seq <= 60; seq++ {
		e, _ := f.ring.push(seq, uint32(seq)*300, seq%5 == 0, []byte{byte(seq), 1, 2}, false, int64(seq)*frameNs)
		wk.fanOut(f, e)
	}
	w.got = nil
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
