package main

import (
	"context"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
)

// twccInterval is how often a viewer sends transport-cc feedback: pion's TWCC interceptor's
// default, and about what browsers send at video rates.
const twccInterval = 100 * time.Millisecond

// twccFeedback is one counting viewer's transport-cc feedback (-twcc with -count). Its socket
// swallows SRTP before pion decrypts it, so pion's TWCC interceptor never sees a packet; the
// transport-wide sequence number is in the RTP header extension, which SRTP leaves in the clear
// (RFC 3711 §3.1), so the socket reads it there and records the arrival in pion's own
// twcc.Recorder, and a flush loop sends the Recorder's feedback over the PeerConnection's SRTCP
// every twccInterval, as the interceptor would. The server's estimator gets the feedback a real
// browser would send, for packets that really arrived when they did.
type twccFeedback struct {
	id    atomic.Uint32 // the negotiated extension id; 0: not negotiated, nothing recorded
	start time.Time

	mu  sync.Mutex // guards rec: the socket's reader records, the flush loop builds
	rec *twcc.Recorder
}

func newTWCCFeedback() *twccFeedback {
	return &twccFeedback{start: time.Now(), rec: twcc.NewRecorder(0)}
}

// record notes the arrival of an SRTP packet b (the socket's reader calls it for every one).
func (t *twccFeedback) record(b []byte, ssrc uint32) {
	id := t.id.Load()
	if id == 0 {
		return
	}
	seq, ok := transportSeq(b, uint8(id))
	if !ok {
		return
	}
	at := time.Since(t.start).Microseconds()
	t.mu.Lock()
	t.rec.Record(ssrc, seq, at)
	t.mu.Unlock()
}

// run sends the feedback every twccInterval through write until ctx ends.
func (t *twccFeedback) run(ctx context.Context, write func([]rtcp.Packet) error) {
	tick := time.NewTicker(twccInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		pkts := t.rec.BuildFeedbackPacket()
		t.mu.Unlock()
		if len(pkts) > 0 {
			_ = write(pkts) // best effort, as the interceptor's; a lost feedback is the estimator's to handle
		}
	}
}

// extmapTWCC finds the transport-cc extension's id in an SDP (a=extmap:<id>[/<direction>] <uri>).
var extmapTWCC = regexp.MustCompile(`(?m)^a=extmap:(\d+)(?:/\w+)? ` + regexp.QuoteMeta(sdp.TransportCCURI) + `\s*$`)

// twccID returns the id the answer gave the transport-cc extension, 0 if it did not accept it.
func twccID(answer string) uint8 {
	m := extmapTWCC.FindStringSubmatch(answer)
	if m == nil {
		return 0
	}
	id, err := strconv.Atoi(m[1])
	if err != nil || id < 1 || id > 255 {
		return 0
	}
	return uint8(id)
}

// transportSeq returns the transport-wide sequence number an RTP packet b carries in its header
// extension id, in the one-byte (RFC 8285 §4.2) or two-byte (§4.3) form; false if it has none.
func transportSeq(b []byte, id uint8) (uint16, bool) {
	if len(b) < 12 || b[0]&0x10 == 0 {
		return 0, false
	}
	off := 12 + 4*int(b[0]&0x0f) // after the CSRCs
	if len(b) < off+4 {
		return 0, false
	}
	profile := uint16(b[off])<<8 | uint16(b[off+1])
	end := off + 4 + 4*(int(b[off+2])<<8|int(b[off+3]))
	if len(b) < end {
		return 0, false
	}
	ext := b[off+4 : end]
	switch {
	case profile == 0xBEDE:
		for i := 0; i < len(ext); {
			eid, n := ext[i]>>4, int(ext[i]&0x0f)+1
			switch eid {
			case 0: // padding
				i++
				continue
			case 15: // reserved: stop
				return 0, false
			}
			if eid == id && n == 2 && i+3 <= len(ext) {
				return uint16(ext[i+1])<<8 | uint16(ext[i+2]), true
			}
			i += 1 + n
		}
	case profile&0xFFF0 == 0x1000:
		for i := 0; i < len(ext); {
			if ext[i] == 0 { // padding
				i++
				continue
			}
			if i+2 > len(ext) {
				return 0, false
			}
			eid, n := ext[i], int(ext[i+1])
			if eid == id && n == 2 && i+4 <= len(ext) {
				return uint16(ext[i+2])<<8 | uint16(ext[i+3]), true
			}
			i += 2 + n
		}
	}
	return 0, false
}

// isTWCCFeedback reports whether b, a datagram the viewer sends, is SRTCP whose first packet is
// transport-cc feedback (RTPFB, FMT 15): the header SRTCP leaves in the clear.
func isTWCCFeedback(b []byte) bool {
	return len(b) >= 8 && b[0] >= 128 && b[0] <= 191 && b[1] == 205 && b[0]&0x1f == 15
}
