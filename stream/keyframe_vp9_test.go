package stream

import (
	"testing"

	"github.com/pion/rtp/codecs"
)

// VP9 (RFC 9628) keyframes in a libvpx-vp9 clip (testdata/media/vp9.ivf: 60 frames, keyframes at
// 0 and 30), packetized by pion in both modes: non-flexible (P set on inter frames, the SS with
// the picture size on key frames) and flexible (P never set, so only the frame header tells).
func TestKeyframeClipVP9(t *testing.T) {
	frames := readIVF(t, "vp9.ivf", func(f []byte) bool { return f[0]&0x04 == 0 }) // frame_type bit, profile 0
	if len(frames) != 60 {
		t.Fatalf("%d frames, want 60", len(frames))
	}
	for _, flexible := range []bool{false, true} {
		p := &codecs.VP9Payloader{FlexibleMode: flexible, InitialPictureIDFn: func() uint16 { return 0x1234 }}
		if k := checkClip(t, "video/vp9", frames, packetize(frames, p), 320, 240); k != 2 {
			t.Errorf("flexible %v: %d keyframes, want 2", flexible, k)
		}
	}
}
