package stream

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// An output that waits to switch to another Feed asks for that Feed's keyframe (browsers send
// one only when asked): at the first packet it waits through, then once per keyframeRetry of
// packet time while it still waits, and no more once it has switched.
func TestOutputAsksKeyframeOfItsTarget(t *testing.T) {
	var asked []*Feed
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", func(f *Feed) { asked = append(asked, f) })
	low := followedFeed(tr, h264Codec)
	high := tr.newFeed(FeedConfig{Codec: h264Codec})
	w := &recordWriter{}
	o := nackOutput(tr, low, w)
	wk := tr.worker(0)
	o.Follow(high)
	push := func(f *Feed, seq uint16, key bool, at int64) {
		e, _ := f.ring.push(seq, uint32(seq)*3000, true, []byte{0x7c, 0x81, 1}, key, at)
		wk.fanOut(f, e)
	}
	ms := int64(time.Millisecond)
	push(high, 1, false, 1000*ms)
	push(high, 2, false, 1500*ms)
	if len(asked) != 1 || asked[0] != high {
		t.Fatalf("asked for %d keyframes, want 1 of the target", len(asked))
	}
	push(high, 3, false, 2001*ms) // a second later: ask again
	if len(asked) != 2 {
		t.Fatalf("asked for %d keyframes after a second of waiting, want 2", len(asked))
	}
	push(high, 4, true, 2100*ms) // the keyframe: switched
	push(high, 5, false, 3200*ms)
	if len(asked) != 2 || o.Feed() != high {
		t.Fatalf("asked %d times, output on %p (high %p): want 2 and the switch", len(asked), o.Feed(), high)
	}
}
