package stream

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
)

// chanWriter hands copies of what a worker writes to the test goroutine.
type chanWriter struct{ ch chan rtp.Packet }

func (w *chanWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.ch <- rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)}
	return len(payload), nil
}

func (w *chanWriter) Write(b []byte) (int, error) { return len(b), nil }

// next returns the next packet written. The bound is a failure report, not a pace: packets are
// written as soon as the worker has them.
func (w *chanWriter) next(t *testing.T) rtp.Packet {
	t.Helper()
	select {
	case p := <-w.ch:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no packet written within 10 s")
		return rtp.Packet{}
	}
}

// testLayer is a test source of one simulcast layer: H.264 frames of packetsPerFrame FU-A
// fragments whose bytes name the layer, frame and fragment, from its own sequence and timestamp
// bases (real layers have unrelated ones).
type testLayer struct {
	id   byte
	feed *Feed
	seq  uint16
	ts   uint32
}

const packetsPerFrame = 4

// frame writes frame n (a keyframe if key) into the layer's Feed and returns its payloads.
func (l *testLayer) frame(t *testing.T, n int, key bool) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range packetsPerFrame {
		typ := byte(1)
		if key {
			typ = 5
		}
		fu := typ
		if i == 0 {
			fu |= 0x80 // S
		}
		if i == packetsPerFrame-1 {
			fu |= 0x40 // E
		}
		payload := []byte{0x7c, fu, l.id, byte(n >> 8), byte(n), byte(i)}
		payload = append(payload, bytes.Repeat([]byte{l.id ^ byte(n) ^ byte(i)}, 200+n%7)...)
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: uint32(l.id), SequenceNumber: l.seq,
			Timestamp: l.ts, Marker: i == packetsPerFrame-1}, Payload: payload}
		if err := l.feed.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
		l.seq++
		out = append(out, payload)
	}
	l.ts += 3000
	return out
}

// TestOutputSwitchAtKeyframe: a viewer's output follows a low layer; the stream then follows a
// high layer, and the output keeps sending low until high's keyframe, where it switches. The
// viewer sees one SSRC, sequence numbers without a gap (across the 16-bit wrap of the high
// layer's own numbers), timestamps that never go back and step forward at the switch, and every
// packet byte-identical to its layer's source. NACKs for packets before and after the switch are
// answered from the right Feed with the bytes the viewer first got. When the followed Feed ends
// (a publisher restart), the next Feed is followed from its first packet, keyframe or not, and the
// lines go on. The counters add up.
func TestOutputSwitchAtKeyframe(t *testing.T) {
	s := newStream("sw", datarelay.Config{})
	defer s.relay.Close()
	pub := &fakePublisher{}
	if _, err := s.SetPublisher(pub, true); err != nil {
		t.Fatal(err)
	}
	newLayer := func(id byte, rid string, seq uint16, ts uint32) *testLayer {
		f, err := s.NewFeed(FeedConfig{Kind: webrtc.RTPCodecTypeVideo, RID: rid, SSRC: uint32(id), Codec: h264Codec})
		if err != nil {
			t.Fatal(err)
		}
		return &testLayer{id: id, feed: f, seq: seq, ts: ts}
	}
	low := newLayer(1, "l", 1000, 5000)
	high := newLayer(2, "h", 65500, 4294960000) // both lines wrap during the test
	if !s.Follow(pub, low.feed) {
		t.Fatal("Follow by the publisher refused")
	}

	tr := s.video
	w := &chanWriter{ch: make(chan rtp.Packet, 4096)}
	ctx := &bindContext{id: "v", ssrc: 7, writer: w}
	if _, err := tr.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Unbind(ctx); tr.wg.Wait() }()
	if !tr.Start(7) {
		t.Fatal("Start found no output")
	}

	// Frames go out on both layers, low first, as a simulcast publisher sends them. The stream
	// follows high from frame 20; high's only keyframe is frame 45, so the output sends low up to
	// frame 45 (queued before high's keyframe) and high from its keyframe on.
	var want [][]byte
	for n := range 60 {
		lp := low.frame(t, n, n%30 == 0)
		hp := high.frame(t, n, n == 45)
		if n == 20 && !s.Follow(pub, high.feed) {
			t.Fatal("Follow(high) refused")
		}
		if n <= 45 {
			want = append(want, lp...)
		}
		if n >= 45 {
			want = append(want, hp...)
		}
	}

	var got []rtp.Packet
	switchAt := -1
	for i, payload := range want {
		p := w.next(t)
		got = append(got, p)
		if !bytes.Equal(p.Payload, payload) {
			t.Fatalf("packet %d: payload %x…, want %x… (layer %d frame %d)", i, p.Payload[:6], payload[:6], payload[2], int(payload[3])<<8|int(payload[4]))
		}
		if p.SSRC != 7 || p.PayloadType != 102 {
			t.Fatalf("packet %d: SSRC %d PT %d, want 7 and 102", i, p.SSRC, p.PayloadType)
		}
		if i > 0 {
			q := got[i-1]
			if p.SequenceNumber != q.SequenceNumber+1 {
				t.Fatalf("packet %d: seq %d after %d", i, p.SequenceNumber, q.SequenceNumber)
			}
			d := int32(p.Timestamp - q.Timestamp)
			if d < 0 || (d == 0) == q.Marker {
				t.Fatalf("packet %d: timestamp %d after %d (marker %v)", i, p.Timestamp, q.Timestamp, q.Marker)
			}
			if switchAt < 0 && payload[2] == high.id {
				switchAt = i
				if d < 3000 {
					t.Fatalf("switch: timestamp step %d, want at least one frame (3000)", d)
				}
			}
		}
	}
	if switchAt < 0 || got[switchAt].Payload[1] != 0x85 {
		t.Fatalf("switched at packet %d, want the first fragment of high's keyframe", switchAt)
	}

	// NACKs: four packets before the switch and four after, in one NackPair, plus the first packet.
	nack := &rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: []rtcp.NackPair{
		{PacketID: got[switchAt-4].SequenceNumber, LostPackets: 0x7f},
		{PacketID: got[0].SequenceNumber},
	}}
	if n := tr.HandleNACK(nack); n != 9 {
		t.Fatalf("NACK of 9 packets: %d resent", n)
	}
	for _, i := range []int{switchAt - 4, switchAt - 3, switchAt - 2, switchAt - 1, switchAt, switchAt + 1, switchAt + 2, switchAt + 3, 0} {
		p := w.next(t)
		q := got[i]
		if p.SequenceNumber != q.SequenceNumber || p.Timestamp != q.Timestamp || p.Marker != q.Marker ||
			p.SSRC != 7 || !bytes.Equal(p.Payload, q.Payload) {
			t.Fatalf("resent seq %d ts %d payload %x…, want packet %d: seq %d ts %d payload %x…",
				p.SequenceNumber, p.Timestamp, p.Payload[:6], i, q.SequenceNumber, q.Timestamp, q.Payload[:6])
		}
	}

	// The publisher restarts: high ends, a new layer (its first packet a delta frame) follows on.
	high.feed.Close()
	next := newLayer(3, "", 200, 90000)
	if !s.Follow(pub, next.feed) {
		t.Fatal("Follow(next) refused")
	}
	fresh := next.frame(t, 0, false)
	last := got[len(got)-1]
	for i, payload := range fresh {
		p := w.next(t)
		step := int32(p.Timestamp - last.Timestamp)
		if !bytes.Equal(p.Payload, payload) || p.SequenceNumber != last.SequenceNumber+1 || (i == 0 && step < 3000) || (i > 0 && step != 0) {
			t.Fatalf("after the restart, packet %d: seq %d ts %d payload %x…; previous seq %d ts %d",
				i, p.SequenceNumber, p.Timestamp, p.Payload[:6], last.SequenceNumber, last.Timestamp)
		}
		last = p
	}

	o := tr.Output(7)
	// The worker counts a packet sent once its write returns, which is after w saw it: wait for the
	// last count (not for time: 5 s only bounds a hang).
	info := o.Info()
	for deadline := time.Now().Add(5 * time.Second); info.Sent < uint64(len(want)+len(fresh)) && time.Now().Before(deadline); info = o.Info() {
		runtime.Gosched()
	}
	var dropped uint64
	for _, n := range info.Dropped {
		dropped += n
	}
	if info.Switches != 2 || info.Offered != info.Sent+dropped || info.Sent != uint64(len(want)+len(fresh)) || info.Resent != 9 {
		t.Fatalf("output counters %+v: want 2 switches, %d sent, offered = sent + dropped, 9 resent", info, len(want)+len(fresh))
	}
	if fi := low.feed.Info(time.Now()); !fi.Active || fi.Keyframes != 2 || fi.Packets != 60*packetsPerFrame || fi.RID != "l" {
		t.Fatalf("low feed info %+v", fi)
	}
}

// TestListShowsOutputs: the status listing (/api/streams) carries each Feed's facts and each
// viewer's output with its counters by drop reason.
func TestListShowsOutputs(t *testing.T) {
	reg := NewRegistry(RegistryConfig{})
	s, err := reg.Acquire("list")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Release(s)
	pub := &fakePublisher{}
	if _, err := s.SetPublisher(pub, true); err != nil {
		t.Fatal(err)
	}
	layer := &testLayer{id: 1, seq: 10, ts: 1000}
	layer.feed, _ = s.NewFeed(FeedConfig{Kind: webrtc.RTPCodecTypeVideo, RID: "f", SSRC: 1, Codec: h264Codec})
	s.Follow(pub, layer.feed)
	w := &chanWriter{ch: make(chan rtp.Packet, 64)}
	ctx := &bindContext{id: "v", ssrc: 7, writer: w}
	if _, err := s.video.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.video.Unbind(ctx); s.video.wg.Wait() }()
	s.video.Start(7)
	layer.frame(t, 0, true)
	for range packetsPerFrame {
		w.next(t)
	}
	list := reg.List()
	if len(list) != 1 || len(list[0].Feeds) != 1 || len(list[0].Outputs) != 1 {
		t.Fatalf("List = %+v, want one stream with one feed and one output", list)
	}
	f, o := list[0].Feeds[0], list[0].Outputs[0]
	if f.RID != "f" || f.Packets != packetsPerFrame || f.Keyframes != 1 || !f.Active || f.Codec != "video/h264" {
		t.Errorf("feed %+v", f)
	}
	if o.SSRC != 7 || o.RID != "f" || o.Sent != packetsPerFrame || o.Offered != packetsPerFrame || len(o.Dropped) != 3 {
		t.Errorf("output %+v", o)
	}
}
