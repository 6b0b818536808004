package stream

import (
	"testing"
	"time"

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

// TestResendLimit: with a limit, a packet NACKed again before resendSpacing is not resent, nor
// more than resendTimes times, and all answers stay within the byte budget; without one, every
// NACK is answered.
func TestResendLimit(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	f := followedFeed(tr, h264Codec)
	w := &recordWriter{}
	o := nackOutput(tr, f, w)
	wk := tr.worker(0)
	payload := make([]byte, 988) // 1000 bytes with the RTP header
	for seq := uint16(1); seq <= 80; seq++ {
		e, _ := f.ring.push(seq, uint32(seq)*300, false, payload, false, int64(seq)*frameNs)
		wk.fanOut(f, e)
	}
	one := &rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: []rtcp.NackPair{{PacketID: 10}}}
	for range 3 {
		if n := tr.HandleNACK(one); n != 1 {
			t.Fatalf("no limit: resent %d, want 1 per NACK", n)
		}
	}
	o.SetResendLimit(8 * 40_000) // 40 kB/s: 20 kB at once
	if n := tr.HandleNACK(one); n != 1 {
		t.Fatalf("first NACK under a limit: resent %d, want 1", n)
	}
	if n := tr.HandleNACK(one); n != 0 {
		t.Fatalf("the same packet again at once: resent %d, want 0", n)
	}
	l := o.resend.Load()
	back := func(d time.Duration) { // as if the last resend were d earlier
		l.mu.Lock()
		s := &l.slots[10]
		s.at -= int64(d)
		l.mu.Unlock()
	}
	for i := 2; i <= resendTimes+1; i++ {
		back(resendSpacing)
		want := 1
		if i > resendTimes {
			want = 0
		}
		if n := tr.HandleNACK(one); n != want {
			t.Fatalf("NACK %d a spacing later: resent %d, want %d", i, n, want)
		}
	}
	// 60 packets of 1000 bytes at once: the 20 kB the budget holds, minus what was spent.
	if n := tr.HandleNACK(&rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: []rtcp.NackPair{
		{PacketID: 20, LostPackets: 0xffff}, {PacketID: 37, LostPackets: 0xffff}, {PacketID: 54, LostPackets: 0xffff}, {PacketID: 71, LostPackets: 0xff},
	}}); n < 16 || n > 17 {
		t.Fatalf("a burst of NACKs: resent %d, want the 16-17 packets the budget holds", n)
	}
	if o.ResendDenied() == 0 {
		t.Fatal("no denial counted")
	}
	o.SetResendLimit(0)
	if n := tr.HandleNACK(one); n != 1 {
		t.Fatalf("limit removed: resent %d, want 1", n)
	}
}
