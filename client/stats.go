package client

import (
	"sync"
	"time"

	"github.com/pion/rtp"
)

// ringSize is how many PacketRecords a Viewer keeps per kind.
const ringSize = 4096

// PacketRecord is what a Viewer remembers of one received RTP packet, for continuity checks.
type PacketRecord struct {
	SequenceNumber uint16
	Timestamp      uint32 // RTP timestamp
	At             time.Time
	Marker         bool
	PayloadType    uint8
	SSRC           uint32
	Size           int // payload bytes
}

// TrackStats counts what a Viewer received of one media kind.
type TrackStats struct {
	Codec         string    // MIME type of the last track of this kind, e.g. "video/H264"
	Tracks        int       // remote tracks of this kind (OnTrack calls)
	Packets       int64     // RTP packets
	Bytes         int64     // RTP payload bytes
	Lost          int64     // sequence numbers skipped by forward jumps
	Gaps          int64     // forward jumps (each may skip several packets)
	Late          int64     // packets at or before the newest sequence number seen (reordered or duplicated)
	Frames        int64     // video frames assembled completely
	Keyframes     int64     // of which keyframes
	Incomplete    int64     // video frames discarded because a packet was missing
	Dropped       int64     // frames or audio packets not delivered because the channel was full
	ReadErrors    int64     // reads pion failed (a packet it could not parse or match to a codec); reading went on
	LastReadError string    // the latest of those, "" if none
	FirstPacket   time.Time // arrival of the first packet; zero if none
	LastPacket    time.Time
	FirstKeyframe time.Time // completion of the first keyframe; zero if none
}

// ViewerStats is a snapshot of everything a Viewer received.
type ViewerStats struct {
	Video, Audio    TrackStats
	Messages        int64 // data channel messages received
	MessagesDropped int64 // of which not delivered because Messages() was full
}

// PublisherStats is a snapshot of what a Publisher sent and the RTCP it got back.
type PublisherStats struct {
	VideoSamples    int64 // samples written to the video track
	AudioSamples    int64 // samples written to the audio track
	WriteErrors     int64 // WriteSample calls that failed
	PLI             int64 // picture loss indications received
	FIR             int64 // full intra requests received
	NACK            int64 // generic NACK packets received
	ReceiverReports int64 // receiver reports received
}

// trackLog records one media kind for a Viewer: counters, the sequence line and a ring of the
// latest packets. Every field is guarded by mu; the track reader is the only writer.
type trackLog struct {
	mu      sync.Mutex
	stats   TrackStats
	ring    [ringSize]PacketRecord
	next    int  // ring slot written next
	full    bool // the ring has wrapped
	haveSeq bool
	lastSeq uint16
}

func (l *trackLog) track(codec string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Tracks++
	l.stats.Codec = codec
	l.haveSeq = false // a new track starts a new sequence line
}

func (l *trackLog) packet(p *rtp.Packet, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &l.stats
	s.Packets++
	s.Bytes += int64(len(p.Payload))
	if s.FirstPacket.IsZero() {
		s.FirstPacket = at
	}
	s.LastPacket = at
	switch d := p.SequenceNumber - l.lastSeq; {
	case !l.haveSeq:
		l.haveSeq, l.lastSeq = true, p.SequenceNumber
	case d == 1:
		l.lastSeq = p.SequenceNumber
	case d != 0 && d < 0x8000:
		s.Gaps++
		s.Lost += int64(d - 1)
		l.lastSeq = p.SequenceNumber
	default:
		s.Late++
	}
	l.ring[l.next] = PacketRecord{
		SequenceNumber: p.SequenceNumber,
		Timestamp:      p.Timestamp,
		At:             at,
		Marker:         p.Marker,
		PayloadType:    p.PayloadType,
		SSRC:           p.SSRC,
		Size:           len(p.Payload),
	}
	l.next = (l.next + 1) % ringSize
	l.full = l.full || l.next == 0
}

// frame counts an assembled frame; one the channel had no room for is counted by add.
func (l *trackLog) frame(f Frame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Frames++
	if f.Keyframe {
		l.stats.Keyframes++
		if l.stats.FirstKeyframe.IsZero() {
			l.stats.FirstKeyframe = f.At
		}
	}
}

func (l *trackLog) add(incomplete, dropped int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Incomplete += incomplete
	l.stats.Dropped += dropped
}

func (l *trackLog) readError(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.ReadErrors++
	l.stats.LastReadError = err.Error()
}

func (l *trackLog) snapshot() TrackStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// records returns the ring oldest first.
func (l *trackLog) records() []PacketRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]PacketRecord(nil), l.ring[:l.next]...)
	}
	out := make([]PacketRecord, 0, ringSize)
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}
