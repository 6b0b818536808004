package layers

import (
	"time"

	"github.com/pion/rtcp"
)

// rembStale is how long a REMB value counts: receivers send one at least every second while they
// use REMB, and stop when they switch to transport-cc.
const rembStale = 5 * time.Second

// Feedback turns what one viewer sends back over RTCP into Signals: its latest REMB and a
// loss-based estimate from the receiver reports about the video it is sent. The send-side
// (transport-cc) estimate comes from pion's cc interceptor, outside this package. Memory is
// constant. It is not safe for concurrent use: the goroutine draining the viewer's RTCP owns it,
// or its owner guards it.
type Feedback struct {
	ssrc   uint32
	loss   *LossEstimator
	remb   float64
	rembAt time.Time
	lossy  time.Time // when the latest report came, if it lost over lossHigh; else zero
}

// lossyFor is how long a report with heavy loss counts as congestion: receivers report about once
// a second.
const lossyFor = 1500 * time.Millisecond

// NewFeedback returns the feedback of a viewer sent video with SSRC ssrc.
func NewFeedback(ssrc uint32, p LossParams) *Feedback {
	return &Feedback{ssrc: ssrc, loss: NewLossEstimator(p)}
}

// Read takes the RTCP packets of one compound packet the viewer sent, at now; sent is the rate
// in bits per second the viewer was sent over the last second (what the loss applies to).
// Packets of other kinds, and report blocks about other SSRCs (audio), are ignored.
func (f *Feedback) Read(now time.Time, pkts []rtcp.Packet, sent float64) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.ReceiverReport:
			f.reports(now, p.Reports, sent)
		case *rtcp.SenderReport:
			f.reports(now, p.Reports, sent)
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			f.remb, f.rembAt = float64(p.Bitrate), now
		}
	}
}

func (f *Feedback) reports(now time.Time, rr []rtcp.ReceptionReport, sent float64) {
	for _, r := range rr {
		if r.SSRC == f.ssrc {
			f.loss.Report(now, r.FractionLost, sent)
			f.lossy = time.Time{}
			if float64(r.FractionLost)/256 > lossHigh {
				f.lossy = now
			}
		}
	}
}

// Signals returns the evidence at now: REMB (0 once stale or never sent), the loss-based
// estimate, congestion while the latest report lost over 10 % (within lossyFor), and sent.
// Estimate and Audio are the caller's to fill.
func (f *Feedback) Signals(now time.Time, sent float64) Signals {
	s := Signals{Loss: f.loss.Estimate(now), Sent: sent}
	s.Congested = !f.lossy.IsZero() && now.Sub(f.lossy) <= lossyFor
	if !f.rembAt.IsZero() && now.Sub(f.rembAt) <= rembStale {
		s.REMB = f.remb
	}
	return s
}
