package client

import (
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// Frame is one video frame a Viewer reassembled from RTP.
type Frame struct {
	// Data is the depacketized frame. H.264 is Annex-B with a 4-byte start code before every NAL
	// unit (the form Source samples have); VP8 is the raw frame.
	Data      []byte
	Keyframe  bool      // H.264: holds an IDR slice; VP8: key frame bit
	Timestamp uint32    // RTP timestamp
	At        time.Time // arrival of the packet that completed the frame
}

// assembler rebuilds frames from in-order RTP packets using the marker bit (RFC 6184 §5.1,
// RFC 7741 §4.1): packets with one timestamp, the first a partition head and the last marked,
// with no sequence gap. A frame missing any packet is discarded, never delivered damaged.
type assembler struct {
	newDepacketizer func() rtp.Depacketizer
	isKey           func(frame []byte) bool

	depack     rtp.Depacketizer
	haveSeq    bool
	lastSeq    uint16
	inFrame    bool // packets of the frame at ts are being collected
	broken     bool // that frame lost a packet
	ts         uint32
	buf        []byte
	incomplete int64 // frames discarded
}

// newAssembler returns an assembler for an H.264 or VP8 track, or nil for other codecs.
func newAssembler(mimeType string) *assembler {
	var a assembler
	switch {
	case strings.EqualFold(mimeType, webrtc.MimeTypeH264):
		a.newDepacketizer = func() rtp.Depacketizer { return &codecs.H264Packet{} }
		a.isKey = hasIDR
	case strings.EqualFold(mimeType, webrtc.MimeTypeVP8):
		a.newDepacketizer = func() rtp.Depacketizer { return &codecs.VP8Packet{} }
		a.isKey = func(f []byte) bool { return len(f) > 0 && f[0]&1 == 0 }
	default:
		return nil
	}
	a.depack = a.newDepacketizer()
	return &a
}

// push adds the next packet as read from the track and returns a frame when one completes.
func (a *assembler) push(p *rtp.Packet, at time.Time) (Frame, bool) {
	gap := false
	if a.haveSeq {
		switch d := p.SequenceNumber - a.lastSeq; {
		case d == 0 || d >= 0x8000:
			return Frame{}, false // duplicate or late: its frame is already done or discarded
		case d > 1:
			gap = true
			a.broken = true
			a.depack = a.newDepacketizer() // forget half-collected FU-A fragments
		}
	}
	a.haveSeq, a.lastSeq = true, p.SequenceNumber
	if len(p.Payload) == 0 {
		return Frame{}, false // padding
	}
	if a.inFrame && p.Timestamp != a.ts {
		a.drop() // the previous frame never saw its marker
	}
	if !a.inFrame {
		a.inFrame, a.ts, a.buf = true, p.Timestamp, a.buf[:0]
		// A frame that starts right after a gap may have lost its first packets (an H.264
		// keyframe's STAP-A with SPS/PPS), though the next one also looks like a partition head.
		a.broken = gap || !a.depack.IsPartitionHead(p.Payload)
	}
	if !a.broken {
		data, err := a.depack.Unmarshal(p.Payload)
		if err != nil {
			a.broken = true
		}
		a.buf = append(a.buf, data...)
	}
	if !p.Marker {
		return Frame{}, false
	}
	if a.broken || len(a.buf) == 0 {
		a.drop()
		return Frame{}, false
	}
	a.inFrame = false
	data := append([]byte(nil), a.buf...)
	return Frame{Data: data, Keyframe: a.isKey(data), Timestamp: a.ts, At: at}, true
}

func (a *assembler) drop() {
	a.incomplete++
	a.inFrame, a.broken = false, false
	a.depack = a.newDepacketizer()
}
