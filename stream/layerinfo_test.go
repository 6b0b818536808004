package stream

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
)

// TestLayersCountViewers: Stream.Layers (the "layers" of /api/streams) counts each video output on
// the Feed it sends now: two outputs on the stream-wide layer h, one that follows l by its own
// choice, on l from l's keyframe; back on the stream-wide choice, it counts on h again from h's
// next keyframe.
func TestLayersCountViewers(t *testing.T) {
	s := newStream("count", datarelay.Config{})
	defer s.relay.Close()
	pub := &fakePublisher{}
	if _, err := s.SetPublisher(pub, true); err != nil {
		t.Fatal(err)
	}
	newLayer := func(id byte, rid string) *testLayer {
		f, err := s.NewFeed(FeedConfig{Kind: webrtc.RTPCodecTypeVideo, RID: rid, SSRC: uint32(id), Codec: h264Codec})
		if err != nil {
			t.Fatal(err)
		}
		return &testLayer{id: id, feed: f, seq: 100, ts: 9000}
	}
	low, high := newLayer(1, "l"), newLayer(2, "h")
	s.Follow(pub, high.feed)

	writers := make([]*chanWriter, 3)
	outs := make([]*Output, 3)
	defer s.video.wg.Wait() // after the Unbinds below (deferred later, so run first)
	for i := range writers {
		writers[i] = &chanWriter{ch: make(chan rtp.Packet, 256)}
		ctx := &bindContext{id: string(rune('a' + i)), ssrc: webrtc.SSRC(10 + i), writer: writers[i]}
		if _, err := s.video.Bind(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.video.Unbind(ctx) }()
		if !s.video.Start(uint32(10 + i)) {
			t.Fatal("Start found no output")
		}
		outs[i] = s.video.Output(uint32(10 + i))
	}
	counts := func() map[string]int {
		m := map[string]int{}
		for _, l := range s.Layers() {
			m[l.RID] = l.Viewers
		}
		return m
	}
	if c := counts(); c["h"] != 3 || c["l"] != 0 || len(c) != 2 {
		t.Fatalf("before any packet: %v, want h 3 (the stream-wide layer) and l 0", c)
	}

	// Output 0 follows l by its own choice; it sends h until l's keyframe.
	outs[0].Follow(low.feed)
	high.frame(t, 0, true)
	low.frame(t, 0, true)
	// Once a writer has had its packets, its output's Feed is what it sent them from.
	for range 2 * packetsPerFrame {
		writers[0].next(t)
	}
	for _, w := range writers[1:] {
		for range packetsPerFrame {
			w.next(t)
		}
	}
	if c := counts(); c["h"] != 2 || c["l"] != 1 {
		t.Fatalf("after l's keyframe: %v, want h 2, l 1", c)
	}

	// Back to the stream-wide choice: on h from its next keyframe.
	outs[0].Follow(nil)
	low.frame(t, 1, false)
	high.frame(t, 1, true)
	for range 2 * packetsPerFrame {
		writers[0].next(t)
	}
	for _, w := range writers[1:] {
		for range packetsPerFrame {
			w.next(t)
		}
	}
	if c := counts(); c["h"] != 3 || c["l"] != 0 {
		t.Fatalf("after h's keyframe: %v, want h 3, l 0", c)
	}
}

// TestRankLayers: highest first by picture size, then bitrate, whatever the rid says.
func TestRankLayers(t *testing.T) {
	ls := []LayerInfo{
		{RID: "h", Width: 320, Height: 180, Bitrate: 150_000},
		{RID: "0", Width: 1280, Height: 720, Bitrate: 1_500_000},
		{RID: "q", Width: 640, Height: 360, Bitrate: 400_000},
		{RID: "b", Width: 640, Height: 360, Bitrate: 600_000},
		{RID: "x"}, // no keyframe yet
	}
	rankLayers(ls)
	var got string
	for _, l := range ls {
		got += l.RID
	}
	if got != "0bqhx" {
		t.Fatalf("ranked %q, want \"0bqhx\"", got)
	}
}
