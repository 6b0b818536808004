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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open vp8: %w", err)
	}
	if len(b) < ivfHeaderLen || !bytes.HasPrefix(b, []byte("DKIF")) || string(b[8:12]) != "VP80" {
		return nil, fmt.Errorf("open vp8 %s: not a VP8 IVF file: %w", path, ErrMedia)
	}
	rate := binary.LittleEndian.Uint32(b[16:20]) // time base denominator
	scale := binary.LittleEndian.Uint32(b[20:24])
	if rate == 0 || scale == 0 {
		return nil, fmt.Errorf("open vp8 %s: time base %d/%d: %w", path, scale, rate, ErrMedia)
	}
	tick := time.Second * time.Duration(scale) / time.Duration(rate)
	var samples []Sample
	var pts []uint64
	for b = b[ivfHeaderLen:]; len(b) > 0; {
		if len(b) < ivfFrameHeaderLen {
			return nil, fmt.Errorf("open vp8 %s: frame %d: short header: %w", path, len(samples), ErrMedia)
		}
		size := binary.LittleEndian.Uint32(b[:4])
		ts := binary.LittleEndian.Uint64(b[4:12])
		b = b[ivfFrameHeaderLen:]
		if uint64(len(b)) < uint64(size) {
			return nil, fmt.Errorf("open vp8 %s: frame %d: short data: %w", path, len(samples), ErrMedia)
		}
		frame := b[:size:size]
		b = b[size:]
		if len(frame) == 0 {
			continue
		}
		samples = append(samples, Sample{Data: frame, Keyframe: frame[0]&1 == 0})
		pts = append(pts, ts)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("open vp8 %s: no frames: %w", path, ErrMedia)
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
	return &Source{
		codec:   webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		samples: samples,
	}, nil
}
