package stream

import (
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Source is one publisher track feeding a Track. It is owned by that track's read goroutine and is
// not safe for concurrent use. Creating a Source makes it the Track's current one; packets from a
// replaced Source are refused with ErrReplaced.
type Source struct {
	// set at construction
	track *Track
	key   string // codec key, see codecKey
	clock uint32 // RTP clock rate

	// owned by the read goroutine
	started bool
	seqOff  uint16
	tsOff   uint32
	hdr     rtp.Header // reused per packet: no allocation on the hot path
}

// NewSource makes codec's feed the Track's current Source.
func (t *Track) NewSource(codec webrtc.RTPCodecParameters) *Source {
	s := &Source{track: t, key: codecKey(codec.RTPCodecCapability), clock: codec.ClockRate}
	if s.clock == 0 {
		s.clock = 90000
	}
	t.current.Store(s)
	return s
}

// Codec returns the source's MIME type in lower case.
func (s *Source) Codec() string { return s.key }

// Current reports whether s is still the Track's current Source.
func (s *Source) Current() bool { return s.track.current.Load() == s }

// Detach makes the Track sourceless if s is still its current Source (the publisher left).
func (s *Source) Detach() { s.track.current.CompareAndSwap(s, nil) }

// WriteRTP forwards one publisher packet to every viewer bound to the Track. The first packet of a
// Source continues the Track's sequence and timestamp lines from the last packet written (by this
// or an earlier publisher), advancing the timestamp by the wall-clock time elapsed since. p is not
// modified or retained.
func (s *Source) WriteRTP(p *rtp.Packet) error {
	t := s.track
	if t.current.Load() != s {
		return ErrReplaced
	}
	if len(p.Payload) == 0 {
		return nil // padding-only probe: nothing a viewer can use
	}
	now := time.Now()
	if !s.started {
		s.start(p, now)
	}
	h := &s.hdr
	*h = p.Header
	h.SequenceNumber = p.SequenceNumber + s.seqOff
	h.Timestamp = p.Timestamp + s.tsOff
	// Header extension ids are negotiated per PeerConnection: the publisher's ids mean nothing to
	// a viewer, so they are stripped (the viewer's own interceptors add theirs, e.g. TWCC).
	h.Extension, h.Extensions, h.ExtensionProfile = false, nil, 0
	// Padding was removed by the parser (Payload excludes it); do not announce it.
	h.Padding, h.PaddingSize = false, 0

	for _, b := range *t.bindings.Load() {
		pt, ok := b.pt[s.key]
		if !ok {
			continue // this viewer did not negotiate the publisher's codec
		}
		h.PayloadType, h.SSRC = pt, b.ssrc
		// A failed write concerns one viewer only (closing, congested); it never stops the others.
		_, _ = b.writer.WriteRTP(h, p.Payload)
	}
	t.written.Add(1)
	t.last.Store(uint64(h.SequenceNumber)<<32 | uint64(h.Timestamp))
	t.lastAt.Store(now.UnixNano())
	return nil
}

// start computes the offsets that continue the Track's lines from p on.
func (s *Source) start(p *rtp.Packet, now time.Time) {
	s.started = true
	seq, ts, at, ok := s.track.lastWritten()
	if !ok {
		return // first publisher of this Track: pass numbers through
	}
	gap := now.Sub(at)
	minGap := time.Second / 30 // at least one video frame (or 33 ms of audio)
	if strings.HasPrefix(s.key, "audio/") {
		minGap = 20 * time.Millisecond
	}
	if gap < minGap {
		gap = minGap
	}
	step := uint32(gap.Seconds() * float64(s.clock))
	s.seqOff = seq + 1 - p.SequenceNumber
	s.tsOff = ts + step - p.Timestamp
}
