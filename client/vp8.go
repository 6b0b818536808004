package client

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
)

// IVF layout (https://wiki.multimedia.cx/index.php/IVF).
const (
	ivfHeaderLen      = 32
	ivfFrameHeaderLen = 12
)

// OpenVP8 reads a VP8 IVF file; one sample per IVF frame. A frame lasts until the next frame's
// timestamp in the file's time base (the last frame repeats the previous duration).
// Sample.Keyframe follows the frame tag's key-frame bit (RFC 6386 §9.1).
func OpenVP8(path string) (*Source, error) {
	s, err := OpenIVF(path)
	if err != nil {
		return nil, err
	}
	if s.codec.MimeType != webrtc.MimeTypeVP8 {
		return nil, fmt.Errorf("open vp8 %s: holds %s: %w", path, s.codec.MimeType, ErrMedia)
	}
	return s, nil
}

// ivfCodecs maps an IVF fourcc to its codec and its keyframe test on one frame.
var ivfCodecs = map[string]struct {
	codec webrtc.RTPCodecCapability
	key   func(frame []byte) bool
}{
	"VP80": {webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, func(f []byte) bool { return f[0]&1 == 0 }},
	"VP90": {webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0"}, vp9KeyFrame},
	"AV01": {webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000}, av1KeyFrame},
}

// OpenIVF reads a VP8, VP9 or AV1 IVF file (by its fourcc); one sample per IVF frame (for AV1 a
// temporal unit of OBUs). A frame lasts until the next frame's timestamp in the file's time base
// (the last frame repeats the previous duration). Sample.Keyframe is read from each frame's header.
// The VP9 and AV1 files must have one shown picture per frame (no superframes with hidden frames).
func OpenIVF(path string) (*Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open ivf: %w", err)
	}
	if len(b) < ivfHeaderLen || !bytes.HasPrefix(b, []byte("DKIF")) {
		return nil, fmt.Errorf("open ivf %s: not an IVF file: %w", path, ErrMedia)
	}
	kind, ok := ivfCodecs[string(b[8:12])]
	if !ok {
		return nil, fmt.Errorf("open ivf %s: codec %q: %w", path, b[8:12], ErrMedia)
	}
	rate := binary.LittleEndian.Uint32(b[16:20]) // time base denominator
	scale := binary.LittleEndian.Uint32(b[20:24])
	if rate == 0 || scale == 0 {
		return nil, fmt.Errorf("open ivf %s: time base %d/%d: %w", path, scale, rate, ErrMedia)
	}
	tick := time.Second * time.Duration(scale) / time.Duration(rate)
	var samples []Sample
	var pts []uint64
	for b = b[ivfHeaderLen:]; len(b) > 0; {
		if len(b) < ivfFrameHeaderLen {
			return nil, fmt.Errorf("open ivf %s: frame %d: short header: %w", path, len(samples), ErrMedia)
		}
		size := binary.LittleEndian.Uint32(b[:4])
		ts := binary.LittleEndian.Uint64(b[4:12])
		b = b[ivfFrameHeaderLen:]
		if uint64(len(b)) < uint64(size) {
			return nil, fmt.Errorf("open ivf %s: frame %d: short data: %w", path, len(samples), ErrMedia)
		}
		frame := b[:size:size]
		b = b[size:]
		if len(frame) == 0 {
			continue
		}
		samples = append(samples, Sample{Data: frame, Keyframe: kind.key(frame)})
		pts = append(pts, ts)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("open ivf %s: no frames: %w", path, ErrMedia)
	}
	for i := range samples {
		d := tick
		switch {
		case i+1 < len(samples) && pts[i+1] > pts[i]:
			d = tick * time.Duration(pts[i+1]-pts[i])
		case i > 0:
			d = samples[i-1].Duration
		}
		samples[i].Duration = d
	}
	return &Source{codec: kind.codec, samples: samples}, nil
}

// vp9KeyFrame reads a VP9 frame header (VP9 bitstream §6.2): frame_marker, profile (two bits,
// low first, and a reserved bit for profile 3), show_existing_frame, frame_type (0: KEY_FRAME).
func vp9KeyFrame(f []byte) bool {
	h := f[0]
	if h>>6 != 2 {
		return false
	}
	bit := 5 - 2 // the bit after frame_marker and profile
	if h&0x30 == 0x30 {
		bit-- // profile 3: reserved_zero
	}
	return h>>bit&1 == 0 && h>>(bit-1)&1 == 0 // show_existing_frame 0, frame_type KEY_FRAME
}

// av1KeyFrame reads the first frame (header) OBU of a temporal unit in low-overhead format (every
// OBU with a size field; AV1 §5.3, §5.9.2): show_existing_frame 0 and frame_type KEY_FRAME.
func av1KeyFrame(tu []byte) bool {
	for len(tu) > 0 {
		h := tu[0]
		i := 1
		if h&0x04 != 0 { // obu_extension_flag
			i++
		}
		if h&0x02 == 0 || i >= len(tu) { // no size field: not low-overhead format
			return false
		}
		var size uint64
		n := 0
		for ; n < 8 && i+n < len(tu); n++ {
			size |= uint64(tu[i+n]&0x7f) << (7 * n)
			if tu[i+n]&0x80 == 0 {
				break
			}
		}
		i += n + 1
		if i > len(tu) || size > uint64(len(tu)-i) {
			return false
		}
		switch (h >> 3) & 0x0f {
		case 3, 6: // OBU_FRAME_HEADER, OBU_FRAME
			return size > 0 && tu[i]&0xe0 == 0
		}
		tu = tu[i+int(size):]
	}
	return false
}
