package client

import (
	"time"

	"github.com/pion/webrtc/v4"
)

// Sample is one unit of media as a publisher writes it: an H.264 access unit, a VP8 frame or an
// Opus packet.
type Sample struct {
	Data     []byte        // the encoded bytes; H.264 is Annex-B with 4-byte start codes
	Duration time.Duration // how long the sample plays; the pacer waits this long after writing it
	Keyframe bool          // an H.264 IDR access unit or a VP8 key frame
}

// Source is a whole media file held in memory, split into samples. Publish paces it in real time.
// A Source is read-only after it is opened and may be shared by any number of publishers.
type Source struct {
	codec   webrtc.RTPCodecCapability
	samples []Sample
}

// Codec returns the RTP codec the samples are encoded with, with the clock rate, channels and
// fmtp line of pion's default codec table.
func (s *Source) Codec() webrtc.RTPCodecCapability { return s.codec }

// Kind returns webrtc.RTPCodecTypeVideo or webrtc.RTPCodecTypeAudio.
func (s *Source) Kind() webrtc.RTPCodecType {
	if s.codec.MimeType == webrtc.MimeTypeOpus {
		return webrtc.RTPCodecTypeAudio
	}
	return webrtc.RTPCodecTypeVideo
}

// Samples returns every sample of the file in order. The slice is shared: do not modify it.
func (s *Source) Samples() []Sample { return s.samples }

// Duration returns the sum of the sample durations: one pass through the file.
func (s *Source) Duration() time.Duration {
	var d time.Duration
	for _, x := range s.samples {
		d += x.Duration
	}
	return d
}

// Keyframes returns the indexes of the keyframe samples, in order.
func (s *Source) Keyframes() []int {
	var out []int
	for i, x := range s.samples {
		if x.Keyframe {
			out = append(out, i)
		}
	}
	return out
}

// nextKeyframe returns the index of the first keyframe at or after i, wrapping to the start when
// wrap is set, or i when there is none.
func (s *Source) nextKeyframe(i int, wrap bool) int {
	for j := i; j < len(s.samples); j++ {
		if s.samples[j].Keyframe {
			return j
		}
	}
	if wrap {
		for j := 0; j < i && j < len(s.samples); j++ {
			if s.samples[j].Keyframe {
				return j
			}
		}
	}
	return i
}
