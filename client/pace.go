package client

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// maxLag is how far a pacer may fall behind its schedule before it stops catching up in a burst
// and restarts the schedule from now.
const maxLag = time.Second

// rtcpBufSize fits any RTCP compound packet on a 1500-byte path.
const rtcpBufSize = 1500

// start launches one pacer per track.
func (p *Publisher) start(tracks []feed) {
	p.pending.Store(int32(len(tracks)))
	if len(tracks) == 0 {
		close(p.finished)
	}
	for _, m := range tracks {
		sent, keyframe := &p.audioSamples, (<-chan struct{})(nil)
		if m.src.Kind() == webrtc.RTPCodecTypeVideo {
			sent = &p.videoSamples
			if p.opt.HonorPLI {
				keyframe = p.keyframe
			}
		}
		p.s.spawn(func() { p.pace(m, sent, keyframe) })
	}
}

// pace writes the samples of one Source in real time once the PeerConnection is connected,
// looping if asked. A keyframe request moves it to the next keyframe sample.
func (p *Publisher) pace(m feed, sent *atomic.Int64, keyframe <-chan struct{}) {
	select {
	case <-p.s.connected:
	case <-p.s.ctx.Done():
		return
	}
	samples := m.src.Samples()
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now()
	for i := 0; ; {
		select {
		case <-p.s.ctx.Done():
			return
		case <-keyframe:
			i = m.src.nextKeyframe(i, p.opt.Loop)
			continue
		case <-timer.C:
		}
		smp := samples[i]
		if err := m.track.WriteSample(media.Sample{Data: smp.Data, Duration: smp.Duration}); err != nil {
			p.writeErrors.Add(1)
		}
		sent.Add(1)
		if i++; i == len(samples) {
			if !p.opt.Loop {
				if p.pending.Add(-1) == 0 {
					close(p.finished)
				}
				return
			}
			i = 0
		}
		next = next.Add(smp.Duration)
		if time.Since(next) > maxLag {
			next = time.Now()
		}
		timer.Reset(time.Until(next))
	}
}

// readRTCP drains one sender until the PeerConnection closes. Draining is required: pion's
// interceptors (NACK responder, reports) only run when RTCP is read. PLI and FIR become keyframe
// requests for the video pacer, coalesced in a channel of one.
func (p *Publisher) readRTCP(sender *webrtc.RTPSender, video bool) {
	buf := make([]byte, rtcpBufSize)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication:
				p.pli.Add(1)
			case *rtcp.FullIntraRequest:
				p.fir.Add(1)
			case *rtcp.TransportLayerNack:
				p.nack.Add(1)
				continue
			case *rtcp.ReceiverReport:
				p.rr.Add(1)
				continue
			default:
				continue
			}
			if video {
				select {
				case p.keyframe <- struct{}{}:
				default:
				}
			}
		}
	}
}
