package stream

import (
	"testing"

	"github.com/pion/rtp/codecs"
)

// H.265 (RFC 7798) keyframes in a libx265 clip (testdata/media/h265.h265: 60 access units, IDR at
// 0 and 30 with VPS, SPS and PPS before each), packetized by pion with aggregation packets (the
// parameter sets in one AP) and without (each alone), and the IDR slices in FUs.
func TestKeyframeClipH265(t *testing.T) {
	frames := readAnnexB(t, "h265.h265",
		func(n []byte) bool { return (n[0]>>1)&0x3f < 32 },
		func(n []byte) bool { t := (n[0] >> 1) & 0x3f; return t >= 16 && t <= 21 })
	if len(frames) != 60 {
		t.Fatalf("%d access units, want 60", len(frames))
	}
	for _, skipAggregation := range []bool{false, true} {
		packets := packetize(frames, &codecs.H265Payloader{SkipAggregation: skipAggregation})
		if k := checkClip(t, "video/h265", frames, packets, 320, 240); k != 2 {
			t.Errorf("aggregation %v: %d keyframes, want 2", !skipAggregation, k)
		}
		ap, fu := 0, 0
		for _, ps := range packets {
			for _, p := range ps {
				switch (p[0] >> 1) & 0x3f {
				case h265AP:
					ap++
				case h265FU:
					fu++
				}
			}
		}
		if fu == 0 || (ap == 0) != skipAggregation {
			t.Errorf("aggregation %v: %d APs, %d FUs: the clip does not exercise both", !skipAggregation, ap, fu)
		}
	}
}
