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
}

// NewSource makes codec's feed the Track's current Source.
func (t *Track) NewSource(codec webrtc.RTPCodecParameters) *Source {
	s := &Source{track: t, key: codecKey(codec.RTPCodecCapability), clock: codec.ClockRate}
	if s.clock == 0 {
		s.clock = 90000
	}
	t.current.Store(s)
	t.ring.forgetKeyframe() // the new publisher's frames do not follow the old keyframe
	return s
}

// Codec returns the source's MIME type in lower case.
func (s *Source) Codec() string { return s.key }

// Detach makes the Track sourceless if s is still its current Source (the publisher left).
func (s *Source) Detach() { s.track.current.CompareAndSwap(s, nil) }

// WriteRTP caches one publisher packet in the Track's ring and hands it to the fan-out workers,
// which write it to every viewer bound to the Track; it never waits on a viewer. The first packet of a
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
	seq, ts := p.SequenceNumber+s.seqOff, p.Timestamp+s.tsOff
	// Header extensions and padding are not cached: extension ids are negotiated per
	// PeerConnection (the publisher's mean nothing to a viewer; the viewer's own interceptors add
	// theirs) and the parser already removed the padding from Payload.
	key := t.kind == webrtc.RTPCodecTypeVideo && isKeyframePacket(s.key, p.Payload)
	e := t.ring.push(seq, ts, p.Marker, s.key, p.Payload, key)
	for _, w := range t.workers {
		if w.count.Load() == 0 {
			continue
		}
		select {
		case w.events <- e:
		default:
			// The worker is a queue behind: its viewers miss this packet (and NACK it).
			t.dropped.Add(uint64(w.count.Load()))
		}
	}
	t.written.Add(1)
	t.last.Store(uint64(seq)<<32 | uint64(ts))
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
