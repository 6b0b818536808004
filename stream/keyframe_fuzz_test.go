package stream

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// keyframeCodecs are the codec keys the detectors know; a fuzz input picks one by its first byte.
var keyframeCodecs = []string{"video/h264", "video/vp8", "video/vp9", "video/av1", "video/h265"}

// The keyframe detectors and size readers never panic on any payload, and a size is only read
// from a packet that starts a keyframe (for the codecs whose size comes from the keyframe header
// itself, or from a parameter set, which counts as a keyframe start). Seeds: the packets of the
// real clips' keyframes.
func FuzzKeyframePacket(f *testing.F) {
	seed := func(codec int, frames []clipFrame, p rtp.Payloader) {
		for i, ps := range packetize(frames, p) {
			if frames[i].key || i == 1 {
				for _, pkt := range ps[:min(len(ps), 3)] {
					f.Add(byte(codec), pkt)
				}
			}
		}
	}
	seed(0, readAnnexB(f, "h264.h264", func(n []byte) bool { t := n[0] & 0x1f; return t == 1 || t == 5 },
		func(n []byte) bool { return n[0]&0x1f == 5 })[:2], &codecs.H264Payloader{})
	seed(1, readIVF(f, "vp8.ivf", func(b []byte) bool { return b[0]&1 == 0 })[:2], &codecs.VP8Payloader{EnablePictureID: true})
	seed(2, readIVF(f, "vp9.ivf", func(b []byte) bool { return b[0]&0x04 == 0 })[:2], &codecs.VP9Payloader{})
	seed(3, readIVF(f, "av1.ivf", av1TemporalUnitKey)[:2], &codecs.AV1Payloader{})
	seed(4, readAnnexB(f, "h265.h265", func(n []byte) bool { return (n[0]>>1)&0x3f < 32 },
		func(n []byte) bool { t := (n[0] >> 1) & 0x3f; return t >= 16 && t <= 21 })[:2], &codecs.H265Payloader{})
	f.Fuzz(func(t *testing.T, which byte, p []byte) {
		codec := keyframeCodecs[int(which)%len(keyframeCodecs)]
		key := isKeyframePacket(codec, p)
		w, h, ok := keyframeSize(codec, p)
		if ok && (w <= 0 || h <= 0) {
			t.Fatalf("%s: size %dx%d reported ok", codec, w, h)
		}
		if ok && !key && codec != "video/av1" {
			t.Fatalf("%s: size %dx%d from a packet that does not start a keyframe: % x", codec, w, h, p)
		}
	})
}
