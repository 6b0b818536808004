package client

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
)

// fmtpOpus is pion's default Opus line.
const fmtpOpus = "minptime=10;useinbandfec=1"

// OpenOpus reads an Ogg Opus file (RFC 7845); one sample per Opus packet, with the duration its
// TOC byte declares (RFC 6716 §3.1). The OpusHead and OpusTags header packets are skipped.
func OpenOpus(path string) (*Source, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open opus: %w", err)
	}
	packets, err := oggPackets(raw)
	if err != nil {
		return nil, fmt.Errorf("open opus %s: %w", path, err)
	}
	if len(packets) < 2 || !bytes.HasPrefix(packets[0], []byte("OpusHead")) ||
		!bytes.HasPrefix(packets[1], []byte("OpusTags")) {
		return nil, fmt.Errorf("open opus %s: missing OpusHead/OpusTags: %w", path, ErrMedia)
	}
	var samples []Sample
	for i, p := range packets[2:] {
		d := opusDuration(p)
		if d == 0 {
			return nil, fmt.Errorf("open opus %s: packet %d: bad TOC: %w", path, i, ErrMedia)
		}
		samples = append(samples, Sample{Data: p, Duration: d})
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("open opus %s: no audio packets: %w", path, ErrMedia)
	}
	return &Source{
		codec:   webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: fmtpOpus},
		samples: samples,
	}, nil
}

// oggPackets returns the packets of the first logical stream of an Ogg file (RFC 3533):
// segments are concatenated until one shorter than 255 bytes ends a packet, across pages.
func oggPackets(b []byte) ([][]byte, error) {
	const headerLen = 27
	var packets [][]byte
	var cur []byte
	var serial uint32
	for page := 0; len(b) > 0; page++ {
		if len(b) < headerLen || !bytes.HasPrefix(b, []byte("OggS")) {
			return nil, fmt.Errorf("page %d: no capture pattern: %w", page, ErrMedia)
		}
		s := binary.LittleEndian.Uint32(b[14:18])
		if page == 0 {
			serial = s
		}
		nseg := int(b[26])
		if len(b) < headerLen+nseg {
			return nil, fmt.Errorf("page %d: short segment table: %w", page, ErrMedia)
		}
		table := b[headerLen : headerLen+nseg]
		body := b[headerLen+nseg:]
		size := 0
		for _, l := range table {
			size += int(l)
		}
		if len(body) < size {
			return nil, fmt.Errorf("page %d: short body: %w", page, ErrMedia)
		}
		b = body[size:]
		if s != serial {
			continue // another logical stream
		}
		for _, l := range table {
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
	}
	return packets, nil
}

// opusDuration returns the play time of an Opus packet from its TOC byte, or 0 if it is invalid.
func opusDuration(p []byte) time.Duration {
	if len(p) == 0 {
		return 0
	}
	config := p[0] >> 3
	var frame time.Duration
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // hybrid: 10, 20 ms
		frame = []time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	frames := 1
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	return frame * time.Duration(frames)
}
