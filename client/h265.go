package client

import (
	"fmt"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
)

// H.265 NAL unit types (ITU-T H.265 Table 7-1) that the splitter cares about.
const (
	h265FirstNonVCL = 32 // types below are slices (VCL)
	h265AUD         = 35
	h265Filler      = 38
)

// OpenH265 reads an Annex-B H.265 file and splits it into access units of fps frames per second,
// as OpenH264 does: an access unit is every NAL unit up to and including the next slice (types
// 0–31), so VPS, SPS, PPS and SEI attach to the slice that follows; the file must have one slice
// per picture. Access unit delimiters and filler data are dropped. Sample.Keyframe is set for
// access units holding an IRAP slice (types 16–23).
func OpenH265(path string, fps int) (*Source, error) {
	if fps <= 0 {
		return nil, fmt.Errorf("open h265 %s: fps %d: %w", path, fps, ErrMedia)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open h265: %w", err)
	}
	dur := time.Second / time.Duration(fps)
	var samples []Sample
	var au []byte
	key := false
	for _, nal := range splitAnnexB(raw) {
		if len(nal) < 2 {
			continue
		}
		typ := (nal[0] >> 1) & 0x3f
		if typ == h265AUD || typ == h265Filler {
			continue
		}
		au = append(au, startCode...)
		au = append(au, nal...)
		if typ >= 16 && typ <= 23 {
			key = true
		}
		if typ < h265FirstNonVCL {
			samples = append(samples, Sample{Data: au, Duration: dur, Keyframe: key})
			au, key = nil, false
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("open h265 %s: no slices: %w", path, ErrMedia)
	}
	return &Source{
		codec:   webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000},
		samples: samples,
	}, nil
}
