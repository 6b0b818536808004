package stream

import (
	"testing"

	"github.com/pion/rtp/codecs"
)

// AV1 keyframes in a libaom clip (testdata/media/av1.ivf: 60 temporal units, keyframes at 0 and
// 30), packetized by pion (a sequence header starts a packet and sets N).
func TestKeyframeClipAV1(t *testing.T) {
	frames := readIVF(t, "av1.ivf", av1TemporalUnitKey)
	if len(frames) != 60 {
		t.Fatalf("%d temporal units, want 60", len(frames))
	}
	if k := checkClip(t, "video/av1", frames, packetize(frames, &codecs.AV1Payloader{}), 320, 240); k != 2 {
		t.Errorf("%d keyframes, want 2", k)
	}
}

// Without the N bit (a packetizer that never sets it), the sequence header alone tells.
func TestKeyframeClipAV1WithoutN(t *testing.T) {
	frames := readIVF(t, "av1.ivf", av1TemporalUnitKey)
	packets := packetize(frames, &codecs.AV1Payloader{})
	for _, ps := range packets {
		for _, p := range ps {
			p[0] &^= 0x08
		}
	}
	if k := checkClip(t, "video/av1", frames, packets, 320, 240); k != 2 {
		t.Errorf("%d keyframes, want 2", k)
	}
}

// av1TemporalUnitKey reads the frame_type of the first frame (header) OBU of a temporal unit in
// low-overhead bitstream format (every OBU with a size field), independently of the detector's
// packet walk.
func av1TemporalUnitKey(tu []byte) bool {
	for len(tu) > 0 {
		h := tu[0]
		i := 1
		if h&0x04 != 0 {
			i++
		}
		size, n := leb128(tu[i:])
		i += n
		typ := int(h>>3) & 0x0f
		if typ == av1OBUFrame || typ == av1OBUFrameHeader {
			return tu[i]&0xe0 == 0 // show_existing_frame 0, frame_type KEY_FRAME
		}
		tu = tu[i+int(size):]
	}
	return false
}
