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

// A NACK for a packet of the replayed GOP is answered with the timestamp that packet was first
// sent with (compressed towards tsEnd), also once the replay has met live and compression has
// ended: a retransmitted keyframe packet with another timestamp than its frame's other packets
// breaks the frame in the viewer's packet buffer, and every replayed frame that depends on it
// is dropped (a fast start without a picture). WHEP-19 (fast start), RFC 4585 §6.2.1.
func TestHandleNACKAfterCatchUpKeepsTimestamps(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	f := followedFeed(tr, h264Codec)
	wk := tr.worker(0)
	seq, ts := uint16(100), uint32(0)
	const pkts = 5 // packets per frame
	push := func(key bool) (first uint64) {
		ts += 3000
		for i := 0; i < pkts; i++ {
			e, _ := f.ring.push(seq, ts, i == pkts-1, []byte{byte(seq)}, key && i == 0, int64(ts)*1e9/90000)
			if i == 0 {
				first = e
			}
			seq++
		}
		return first
	}
	push(true) // the keyframe
	for i := 0; i < 20; i++ {
		push(false)
	}
	keyE, keyTS, _, headTS, ok := f.ring.join()
	if !ok {
		t.Fatal("no keyframe cached")
	}
	w := &recordWriter{}
	o := &Output{id: "j", ssrc: 7, kind: tr.kind, writer: w, pt: map[string]uint8{"video/h264": 102}}
	o.start(f)
	o.catchUpFrom(keyE, keyTS, headTS)
	outs := []*Output{o}
	wk.outputs.Store(&outs)
	for i := 0; i < 40 && !(o.live.Load() && !o.compressing.Load()); i++ {
		e := push(false)
		for j := uint64(0); j < pkts; j++ {
			wk.fanOut(f, e+j)
		}
	}
	if !o.live.Load() || o.compressing.Load() {
		t.Fatal("the replay did not meet live")
	}
	sent := map[uint16]uint32{}
	for _, p := range w.got {
		sent[p.SequenceNumber] = p.Timestamp
	}
	// The keyframe's packets and the ones of the next frame, by the viewer's sequence numbers.
	first := uint16(keyE)
	w.got = nil
	nack := rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: []rtcp.NackPair{{PacketID: first, LostPackets: 0x1ff}}}
	if n := tr.HandleNACK(&nack); n != 10 {
		t.Fatalf("resent %d packets, want 10", n)
	}
	for _, p := range w.got {
		if want := sent[p.SequenceNumber]; p.Timestamp != want {
			t.Errorf("packet %d resent with timestamp %d, first sent with %d", p.SequenceNumber, p.Timestamp, want)
		}
	}
	if o.compressing.Load() {
		t.Error("answering a NACK turned compression back on")
	}
}
