package client

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
)

// H.264 NAL unit types (ITU-T H.264 Table 7-1) that the splitter cares about.
const (
	naluSlice  = 1
	naluIDR    = 5
	naluAUD    = 9
	naluFiller = 12
)

// fmtpH264 is pion's default constrained-baseline H.264 line, which OBS also always signals.
const fmtpH264 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

var startCode = []byte{0, 0, 0, 1}

// OpenH264 reads an Annex-B H.264 file and splits it into access units of fps frames per second.
//
// An access unit is every NAL unit up to and including the next slice (NAL type 1 or 5), so SPS,
// PPS and SEI attach to the slice that follows them; the file must have one slice per picture.
// Access unit delimiters and filler data are dropped (pion's payloader drops them too), and every
// NAL unit is rewritten with a 4-byte start code and no trailing zeros. That is exactly the form
// pion's H.264 depacketizer produces, so a received frame can be compared byte for byte with the
// sample that was sent. Sample.Keyframe is set for access units holding an IDR slice.
func OpenH264(path string, fps int) (*Source, error) {
	if fps <= 0 {
		return nil, fmt.Errorf("open h264 %s: fps %d: %w", path, fps, ErrMedia)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open h264: %w", err)
	}
	dur := time.Second / time.Duration(fps)
	var samples []Sample
	var au []byte
	key := false
	for _, nal := range splitAnnexB(raw) {
		typ := nal[0] & 0x1f
		if typ == naluAUD || typ == naluFiller {
			continue
		}
		au = append(au, startCode...)
		au = append(au, nal...)
		if typ == naluIDR {
			key = true
		}
		if typ == naluSlice || typ == naluIDR {
			samples = append(samples, Sample{Data: au, Duration: dur, Keyframe: key})
			au, key = nil, false
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("open h264 %s: no slices: %w", path, ErrMedia)
	}
	return &Source{
		codec:   webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtpH264},
		samples: samples,
	}, nil
}

// splitAnnexB returns the NAL units of an Annex-B byte stream, without start codes and without
// trailing zero bytes. Empty units are skipped.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	i := bytes.Index(b, startCode[1:])
	for i >= 0 {
		b = b[i+3:]
		next := bytes.Index(b, startCode[1:])
		nal := b
		if next >= 0 {
			nal = b[:next]
		}
		nal = bytes.TrimRight(nal, "\x00")
		if len(nal) > 0 {
			out = append(out, nal)
		}
		i = next
	}
	return out
}

// hasIDR reports whether Annex-B data holds an IDR slice.
func hasIDR(annexB []byte) bool {
	for _, nal := range splitAnnexB(annexB) {
		if nal[0]&0x1f == naluIDR {
			return true
		}
	}
	return false
}
