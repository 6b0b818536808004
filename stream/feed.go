package stream

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// activeWithin is how recently a Feed must have had a packet to count as active.
const activeWithin = time.Second

// Input is the producer's side of a Feed, the one seam through which RTP enters the core: the
// WHIP publisher writes each remote track into one, and a pull from another server would too.
type Input interface {
	// WriteRTP caches one packet and hands it to the viewers following the Feed; it never waits
	// on a viewer. The packet is not modified or retained.
	WriteRTP(p *rtp.Packet) error
	// Close ends the Feed: viewers following it move to the next Feed they are given at its
	// first packet, and its cache is freed.
	Close()
}

// FeedConfig describes the layer a Feed carries.
type FeedConfig struct {
	Kind  webrtc.RTPCodecType       // audio or video
	RID   string                    // simulcast encoding id (RFC 8851); empty for a single encoding
	SSRC  uint32                    // the publisher's SSRC, for keyframe requests
	Codec webrtc.RTPCodecParameters // the negotiated codec
}

// Feed is one incoming layer of a Stream (a simulcast encoding, a single video track or an audio
// track). It owns the layer's packet ring (NACK answers, fast start from the current GOP) and
// its measured facts: resolution read from keyframes, bitrate, whether it is active. Viewers'
// outputs follow a Feed (Stream.Follow for all of them, Output.Follow for one); a Feed writes
// nothing to viewers itself, it signals the Track's fan-out workers.
type Feed struct {
	// set at construction
	track *Track
	cfg   FeedConfig
	key   string // codec key, see codecKey
	clock uint32 // RTP clock rate
	video bool
	ring  ring

	// written by the producer, read anywhere
	meter     meter
	packets   atomic.Uint64
	keyframes atomic.Uint64
	size      atomic.Uint64 // width<<32 | height, from the newest keyframe that carried them
	lastAt    atomic.Int64  // arrival of the newest packet, Unix ns
	closed    atomic.Bool
	keyWanted atomic.Bool // a viewer asked for a keyframe of this layer (Stream.RequestKeyframeOf)

	// owned by the producer
	keyTS   uint32
	keySeen bool
}

var _ Input = (*Feed)(nil)

// NewFeed makes a Feed for one incoming layer of the stream and registers it with the Track of
// its kind; the caller writes RTP into it and closes it when the layer ends. Viewers do not
// follow a new Feed until Follow says so.
func (s *Stream) NewFeed(cfg FeedConfig) (*Feed, error) {
	t := s.Track(cfg.Kind)
	if t == nil {
		return nil, fmt.Errorf("new feed: %w: %s", ErrKind, cfg.Kind)
	}
	return t.newFeed(cfg), nil
}

// newFeed makes and registers a Feed of the Track's kind.
func (t *Track) newFeed(cfg FeedConfig) *Feed {
	cfg.Kind = t.kind
	f := &Feed{track: t, cfg: cfg, key: codecKey(cfg.Codec.RTPCodecCapability), clock: cfg.Codec.ClockRate,
		video: cfg.Kind == webrtc.RTPCodecTypeVideo}
	if f.clock == 0 {
		f.clock = 90000
	}
	if f.video {
		f.ring = newRing(videoSlots, videoBytes, f.clock)
	} else {
		f.ring = newRing(audioSlots, audioBytes, f.clock)
	}
	t.addFeed(f)
	return f
}

// RID is the layer's simulcast encoding id, empty for a single encoding.
func (f *Feed) RID() string { return f.cfg.RID }

// SSRC is the publisher's SSRC of the layer.
func (f *Feed) SSRC() uint32 { return f.cfg.SSRC }

// Codec is the layer's MIME type in lower case.
func (f *Feed) Codec() string { return f.key }

// Kind is audio or video.
func (f *Feed) Kind() webrtc.RTPCodecType { return f.cfg.Kind }

// Keyframes returns how many keyframes the Feed has received.
func (f *Feed) Keyframes() uint64 { return f.keyframes.Load() }

// Closed reports whether the Feed has ended.
func (f *Feed) Closed() bool { return f.closed.Load() }

// WriteRTP implements Input. A closed Feed refuses packets with ErrFeedClosed. Header extensions
// and padding are not cached: extension ids are negotiated per PeerConnection (the publisher's
// mean nothing to a viewer, whose own interceptors add theirs) and the parser already removed
// the padding from Payload.
func (f *Feed) WriteRTP(p *rtp.Packet) error { return f.writeAt(p, time.Now().UnixNano()) }

// writeAt is WriteRTP for a packet that arrived at now (Unix ns).
func (f *Feed) writeAt(p *rtp.Packet, now int64) error {
	if f.closed.Load() {
		return ErrFeedClosed
	}
	if len(p.Payload) == 0 {
		return nil // padding-only probe: nothing a viewer can use
	}
	key := f.video && isKeyframePacket(f.key, p.Payload)
	if key {
		f.sawKeyframe(p)
	}
	e, ok := f.ring.push(p.SequenceNumber, p.Timestamp, p.Marker, p.Payload, key, now)
	f.packets.Add(1)
	f.lastAt.Store(now)
	if ok {
		// Copies of packets already held (a browser's RTX padding) are neither forwarded nor
		// measured: a layer's bitrate is its media's, not its publisher's probes.
		f.meter.add(len(p.Payload), now)
		f.track.deliver(f, e)
	}
	return nil
}

// sawKeyframe counts a keyframe once per frame and records its picture size when the packet
// carries it.
func (f *Feed) sawKeyframe(p *rtp.Packet) {
	if !f.keySeen || p.Timestamp != f.keyTS {
		f.keySeen, f.keyTS = true, p.Timestamp
		f.keyframes.Add(1)
	}
	if w, h, ok := keyframeSize(f.key, p.Payload); ok {
		f.size.Store(uint64(w)<<32 | uint64(h))
	}
}

// Close implements Input. It is safe to call more than once.
func (f *Feed) Close() {
	if f.closed.Swap(true) {
		return
	}
	f.track.removeFeed(f)
	f.ring.close()
}

// FeedInfo is a snapshot of a Feed's measured facts for the status API.
type FeedInfo struct {
	Kind   string `json:"kind"`
	RID    string `json:"rid,omitempty"`
	Codec  string `json:"codec"`
	Width  int    `json:"width,omitempty"`  // from the newest keyframe that carried them
	Height int    `json:"height,omitempty"` // (keyframeSize: SPS, key frame or sequence header)
	// Bitrate is the payload bitrate over the last complete second, PeakBitrate the highest such
	// one-second figure in the last two seconds, both in bits per second.
	Bitrate     int64  `json:"bitrate"`
	PeakBitrate int64  `json:"peakBitrate"`
	Active      bool   `json:"active"` // a packet within the last second
	Packets     uint64 `json:"packets"`
	Keyframes   uint64 `json:"keyframes"`
	RingSlots   int    `json:"ringSlots"` // the packet cache's current size
	RingBytes   int    `json:"ringBytes"`
}

// Info returns the Feed's measured facts as of now.
func (f *Feed) Info(now time.Time) FeedInfo {
	size := f.size.Load()
	avg, peak := f.meter.rates(now)
	slots, bytes := f.ring.size()
	return FeedInfo{Kind: f.cfg.Kind.String(), RID: f.cfg.RID, Codec: f.key,
		Width: int(size >> 32), Height: int(uint32(size)), Bitrate: avg, PeakBitrate: peak,
		Active:  now.UnixNano()-f.lastAt.Load() < int64(activeWithin),
		Packets: f.packets.Load(), Keyframes: f.keyframes.Load(), RingSlots: slots, RingBytes: bytes}
}

// minGap is the least timestamp step a switch onto this Feed makes: one video frame at 30 fps,
// or one 20 ms audio packet.
func (f *Feed) minGap() time.Duration {
	if strings.HasPrefix(f.key, "audio/") {
		return 20 * time.Millisecond
	}
	return time.Second / 30
}
