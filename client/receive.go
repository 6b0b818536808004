package client

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func (v *Viewer) log(kind webrtc.RTPCodecType) *trackLog {
	if kind == webrtc.RTPCodecTypeAudio {
		return &v.audioLog
	}
	return &v.videoLog
}

// maxReadFailures is how many reads in a row may fail before a track reader gives up.
const maxReadFailures = 100

// receive is the read loop of one remote track; it ends when the PeerConnection closes. It never
// blocks on a reader: full channels drop and count.
func (v *Viewer) receive(t *webrtc.TrackRemote) {
	kind := t.Kind()
	log := v.log(kind)
	log.track(t.Codec().MimeType)
	var asm *assembler
	var order reorder // a player's jitter buffer: RTX and probe copies arrive out of order
	if kind == webrtc.RTPCodecTypeVideo {
		asm = newAssembler(t.Codec().MimeType)
		if v.opt.PLIOnStart {
			pli := &rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}
			_ = v.s.pc.WriteRTCP([]rtcp.Packet{pli}) // best effort; a lost PLI is a test outcome
		}
	}
	for failed := 0; ; {
		p, _, err := t.ReadRTP()
		if err != nil {
			// One packet pion cannot parse or map to a codec must not end the track: only the end
			// of the stream does, or a run of failures that says the track is gone anyway.
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) ||
				v.s.ctx.Err() != nil || failed >= maxReadFailures {
				return
			}
			failed++
			log.readError(err)
			continue
		}
		failed = 0
		at := time.Now()
		log.packet(p, at)
		switch {
		case asm != nil:
			before := asm.incomplete
			order.push(p, at, func(q *rtp.Packet) {
				if f, ok := asm.push(q, at); ok {
					log.frame(f) // counted before delivery, so a reader never sees a frame Stats lacks
					select {
					case v.frames <- f:
					default:
						log.add(0, 1)
					}
				}
			})
			if n := asm.incomplete - before; n > 0 {
				log.add(n, 0)
			}
		case kind == webrtc.RTPCodecTypeAudio:
			a := AudioPacket{Data: p.Payload, Timestamp: p.Timestamp, SequenceNumber: p.SequenceNumber, At: at}
			select {
			case v.audio <- a:
			default:
				log.add(0, 1)
			}
		}
	}
}
