package stream

import (
	"slices"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
)

// TestKeyframeSSRCs: keyframe requests name their layer. RequestKeyframe asks for the layer the
// publisher says viewers follow; RequestKeyframeOf asks for one Feed's layer (a pinned viewer, a
// pull's layer section); an audio Feed or nil is RequestKeyframe. Requests coalesce into one
// signal, each SSRC appears once, and KeyframeSSRCs forgets what it returned.
func TestKeyframeSSRCs(t *testing.T) {
	s := newStream("k", datarelay.Config{})
	defer s.relay.Close()
	feed := func(kind webrtc.RTPCodecType, rid string, ssrc uint32) *Feed {
		f, err := s.NewFeed(FeedConfig{Kind: kind, RID: rid, SSRC: ssrc, Codec: h264Codec})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	low, high := feed(webrtc.RTPCodecTypeVideo, "l", 11), feed(webrtc.RTPCodecTypeVideo, "h", 22)
	audio := feed(webrtc.RTPCodecTypeAudio, "", 33)
	signals := func() int {
		n := 0
		for {
			select {
			case <-s.KeyframeRequests():
				n++
			default:
				return n
			}
		}
	}
	for _, c := range []struct {
		name     string
		ask      func()
		followed uint32
		want     []uint32
	}{
		{"followed layer", s.RequestKeyframe, 22, []uint32{22}},
		{"one layer", func() { s.RequestKeyframeOf(low) }, 22, []uint32{11}},
		{"both, once each", func() { s.RequestKeyframe(); s.RequestKeyframeOf(low); s.RequestKeyframeOf(low) }, 22, []uint32{22, 11}},
		{"the followed layer asked twice", func() { s.RequestKeyframe(); s.RequestKeyframeOf(high) }, 22, []uint32{22}},
		{"audio or nil asks for the followed layer", func() { s.RequestKeyframeOf(audio); s.RequestKeyframeOf(nil) }, 11, []uint32{11}},
		{"no followed layer known", s.RequestKeyframe, 0, nil},
	} {
		c.ask()
		if n := signals(); n != 1 {
			t.Errorf("%s: %d signals, want 1 (coalesced)", c.name, n)
		}
		if got := s.KeyframeSSRCs(c.followed); !slices.Equal(got, c.want) {
			t.Errorf("%s: KeyframeSSRCs = %v, want %v", c.name, got, c.want)
		}
		if got := s.KeyframeSSRCs(c.followed); got != nil {
			t.Errorf("%s: asked again without a request: %v", c.name, got)
		}
	}
}

// TestFollowOnly: an output told FollowOnly(f) sends f and, once f has ended, nothing of the
// layer the stream follows, until it is told another Feed: then it sends that one from its next
// keyframe, not from the delta frame before it. (Follow would return it to the stream-wide
// layer at once, at any packet; TestOutputSwitchAtKeyframe.)
func TestFollowOnly(t *testing.T) {
	s := newStream("only", datarelay.Config{})
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
		return &testLayer{id: id, feed: f, seq: 100, ts: 1000}
	}
	low, high := newLayer(1, "l"), newLayer(2, "h")
	if !s.Follow(pub, high.feed) {
		t.Fatal("Follow refused")
	}
	tr := s.video
	w := &chanWriter{ch: make(chan rtp.Packet, 4096)}
	ctx := &bindContext{id: "v", ssrc: 7, writer: w}
	if _, err := tr.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Unbind(ctx); tr.wg.Wait() }()
	if !tr.StartOn(7, low.feed) {
		t.Fatal("StartOn found no output")
	}
	out := tr.Output(7)
	out.FollowOnly(low.feed)

	layerOf := func(p rtp.Packet) byte { return p.Payload[2] }
	for n := range 3 {
		low.frame(t, n, n == 0)
		high.frame(t, n, n == 0)
	}
	for range 3 * packetsPerFrame {
		if p := w.next(t); layerOf(p) != low.id {
			t.Fatalf("a packet of layer %d while following only the low one", layerOf(p))
		}
	}
	low.feed.Close() // the layer ends (its publisher went away)
	for n := 3; n < 6; n++ {
		high.frame(t, n, true)
	}
	// A new low layer, which the output is then told to follow: its first frame is a delta.
	low2 := newLayer(3, "l")
	out.FollowOnly(low2.feed)
	low2.frame(t, 0, false)
	low2.frame(t, 1, true)
	for range packetsPerFrame {
		p := w.next(t)
		if layerOf(p) != low2.id {
			t.Fatalf("after its layer ended, the output sent a packet of layer %d, want nothing until the new low layer", layerOf(p))
		}
		if frame := p.Payload[4]; frame != 1 {
			t.Fatalf("the new low layer's frame %d sent, want its keyframe (1) first", frame)
		}
	}
	if got := out.Feed(); got != low2.feed {
		t.Fatal("the output does not send the new low layer")
	}
}
