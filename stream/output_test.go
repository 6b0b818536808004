package stream

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// followedFeed makes a Feed of codec on tr and has tr's outputs follow it, as a publisher's
// Stream.Follow would.
func followedFeed(tr *Track, codec webrtc.RTPCodecParameters) *Feed {
	f := tr.newFeed(FeedConfig{Codec: codec})
	tr.current.Store(f)
	return f
}

// A joining output replays the cached GOP from the keyframe's first packet, then carries on with
// live packets: sequence numbers without a gap, timestamps strictly increasing within the replay's
// frames, compressed before tsEnd and the Track's own from tsEnd on.
func TestCatchUpReplaysGOPIntoLive(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	f := followedFeed(tr, h264Codec)
	wk := tr.worker(0)
	seq, ts := uint16(100), uint32(0)
	const pkts = 5 // packets per frame
	frame := func(key bool) uint64 {
		ts += 3000
		var e uint64
		for i := 0; i < pkts; i++ {
			e, _ = f.ring.push(seq, ts, i == pkts-1, []byte{byte(seq)}, key && i == 0, int64(ts)*1e9/90000)
			seq++
		}
		return e
	}
	frame(false)
	frame(true) // the keyframe: ts 6000
	for i := 0; i < 28; i++ {
		frame(false)
	}
	keyE, keyTS, _, headTS, ok := f.ring.join()
	if !ok || keyTS != 6000 {
		t.Fatalf("join: key ts %d ok %v", keyTS, ok)
	}
	w := &recordWriter{}
	b := &Output{id: "j", ssrc: 9, writer: w, pt: map[string]uint8{"video/h264": 102}}
	b.start(f)
	b.catchUpFrom(keyE, keyTS, headTS)
	bs := []*Output{b}
	wk.outputs.Store(&bs)

	// Live goes on; the worker sees each new packet.
	for i := 0; i < 40 && !(b.live.Load() && !b.compressing.Load()); i++ {
		ts += 3000
		for j := 0; j < pkts; j++ {
			e, _ := f.ring.push(seq, ts, j == pkts-1, []byte{byte(seq)}, false, int64(ts)*1e9/90000)
			seq++
			wk.fanOut(f, e)
		}
	}
	if !b.live.Load() || b.compressing.Load() {
		t.Fatalf("not live after 40 frames (live %v, compressing %v)", b.live.Load(), b.compressing.Load())
	}
	if len(w.got) == 0 || uint64(w.got[0].SequenceNumber) != keyE%65536 || w.got[0].Timestamp >= b.tsEnd {
		t.Fatalf("first packet %+v, want seq %d (the keyframe's first) before tsEnd %d", w.got[0].Header, uint16(keyE), b.tsEnd)
	}
	if want := b.tsEnd - (b.tsEnd-keyTS)/catchUpBurst; w.got[0].Timestamp != want {
		t.Fatalf("keyframe sent at timestamp %d, want %d (compressed %d× towards %d)", w.got[0].Timestamp, want, catchUpBurst, b.tsEnd)
	}
	for i := 1; i < len(w.got); i++ {
		p, q := w.got[i-1], w.got[i]
		if q.SequenceNumber != p.SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, q.SequenceNumber, p.SequenceNumber)
		}
		if d := int32(q.Timestamp - p.Timestamp); d < 0 || (d == 0) == p.Marker {
			t.Fatalf("packet %d: timestamp %d after %d (marker %v)", i, q.Timestamp, p.Timestamp, p.Marker)
		}
		if q.SSRC != 9 || q.PayloadType != 102 || q.Payload[0] != byte(q.SequenceNumber) {
			t.Fatalf("packet %d = %+v", i, q.Header)
		}
	}
	last := w.got[len(w.got)-1]
	if last.Timestamp != ts || last.SequenceNumber != seq-1 {
		t.Fatalf("last packet seq %d ts %d, want live %d %d", last.SequenceNumber, last.Timestamp, seq-1, ts)
	}
}
