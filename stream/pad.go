package stream

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// padBack is how far back (in the viewer's packets) Pad copies media from.
const padBack = 64

// padSize is the size of one padding-only packet's payload: RTP padding is at most 255 bytes
// (its count is one byte, RFC 3550 §5.1).
const padSize = 255

// padding is the payload of every padding-only packet: zeros, ending with its own length.
var padding = func() (b [padSize]byte) { b[padSize-1] = padSize; return }()

// rtxFor returns the viewer's RTX payload type for the codec with payload type pt, else any RTX
// payload type it negotiated.
func rtxFor(codecs []webrtc.RTPCodecParameters, pt webrtc.PayloadType) (uint8, bool) {
	var first uint8
	found := false
	for _, c := range codecs {
		if !strings.EqualFold(c.MimeType, webrtc.MimeTypeRTX) {
			continue
		}
		if !found {
			first, found = uint8(c.PayloadType), true
		}
		if strings.Contains(c.SDPFmtpLine, "apt="+strconv.Itoa(int(pt))) {
			return uint8(c.PayloadType), true
		}
	}
	return first, found
}

// CanPad reports whether the output can send probe padding: the viewer negotiated RTX.
func (o *Output) CanPad() bool { return o.rtxSSRC != 0 && o.rtxPTOK }

// Pad sends about n bytes of probe padding on the viewer's RTX SSRC, the way libwebrtc probes:
// RTX retransmissions of the packets the output sent last (RFC 4588: the original sequence number,
// then the payload), newest first and at most padBack back, or padding-only packets (the padding
// bit set, no payload) before it sent any. A receiver discards them (it has the packets), but they
// cross the viewer's path, are stamped for transport-cc and count in what the viewer was sent, so
// a bandwidth probe can show whether a higher rate fits; copies of media are full-size packets,
// a fifth of the packets padding-only ones would take (each packet costs both ends' CPU). The
// media's sequence numbers are untouched (RTX has its own). It returns the bytes sent (RTP headers
// included). Not for concurrent use: one prober per output calls it; it is safe alongside the
// output's media and NACK answers.
func (o *Output) Pad(n int) int {
	if !o.CanPad() || n <= 0 {
		return 0
	}
	sent := 0
	if last := o.lastOut.Load(); last != 0 {
		rb := nackBufs.Get().(*resendBuf)
		defer nackBufs.Put(rb)
		for out := last; sent < n && out > 0 && last-out < padBack; out-- {
			seg, ok := o.segmentOf(out)
			if !ok {
				break
			}
			size, m, st := seg.feed.ring.read(out-seg.seqOff, rb.payload[2:])
			if st != readOK {
				continue
			}
			binary.BigEndian.PutUint16(rb.payload[:2], uint16(out))
			o.padSeq++
			rb.h = rtp.Header{Version: 2, Marker: m.marker, PayloadType: o.rtxPT, SequenceNumber: o.padSeq,
				Timestamp: o.sentTimestamp(out, m.ts+seg.tsOff), SSRC: o.rtxSSRC}
			if _, err := o.writer.WriteRTP(&rb.h, rb.payload[:size+2]); err != nil {
				break
			}
			sent += size + 2 + 12
		}
	}
	for sent < n {
		o.padSeq++
		h := rtp.Header{Version: 2, Padding: true, PayloadType: o.rtxPT, SequenceNumber: o.padSeq,
			Timestamp: o.padTS, SSRC: o.rtxSSRC}
		if _, err := o.writer.WriteRTP(&h, padding[:]); err != nil {
			break
		}
		sent += padSize + 12
	}
	o.stats.padded.Add(uint64(sent))
	return sent
}

// Padded returns the bytes of probe padding the output sent.
func (o *Output) Padded() uint64 { return o.stats.padded.Load() }
