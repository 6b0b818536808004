package layers

import "math"

// Budget parameters (research/simulcast.md §4.2).
const (
	// SentCap bounds the send-side estimate by what was really sent: pion's GCC has no probing and
	// its estimate grows without bound while the sender sends less than it could (pion/interceptor#299).
	SentCap = 1.5
	// Headroom is the share of the evidence the video may use.
	Headroom = 0.85
)

// Signals is one viewer's bandwidth evidence, each in bits per second; 0 means the viewer gave
// none of that kind (it negotiated no transport-cc, sends no REMB, ...).
type Signals struct {
	// Estimate is the send-side estimate from transport-cc feedback (GCC's target bitrate).
	Estimate float64
	// Sent is what was sent to the viewer over the last seconds (all media, padding included);
	// it caps Estimate at SentCap times itself. 0 leaves Estimate uncapped.
	Sent float64
	// REMB is the receiver's latest estimated maximum bitrate.
	REMB float64
	// Loss is the loss-based estimate from receiver reports (LossEstimator).
	Loss float64
	// Audio is the rate of the viewer's audio, taken off the budget.
	Audio float64
	// Congested says the path carries less than it is sent, now (a standing queue or heavy loss
	// in transport-cc feedback, over 10 % loss in a receiver report): the estimates then measure
	// its capacity, and a layer above that capacity is left at once rather than after DownAfter.
	Congested bool
	// Overuse says the path's queue builds or it loses packets now (or the player asks for packets
	// again): a running probe has failed.
	Overuse bool
}

// Capacity returns the bits per second the viewer's video is carried at most, from the same
// evidence as Budget but without Headroom nor the cap by what was sent: what a path that is
// congested measured. ok is false without evidence.
func (s Signals) Capacity() (bps float64, ok bool) {
	b := math.Inf(1)
	for _, v := range []float64{s.Estimate, s.REMB, s.Loss} {
		if v > 0 {
			b = min(b, v)
		}
	}
	if math.IsInf(b, 1) {
		return 0, false
	}
	return max(0, b-s.Audio), true
}

// Budget returns the bits per second the viewer's video may use: the smallest of the estimates
// it has (the send-side one capped by what was sent), less audio, times Headroom. ok is false
// when the viewer gave no evidence at all; the chooser then holds its layer.
func (s Signals) Budget() (bps float64, ok bool) {
	b := math.Inf(1)
	if s.Estimate > 0 {
		e := s.Estimate
		if s.Sent > 0 {
			e = min(e, SentCap*s.Sent)
		}
		b = min(b, e)
	}
	if s.REMB > 0 {
		b = min(b, s.REMB)
	}
	if s.Loss > 0 {
		b = min(b, s.Loss)
	}
	if math.IsInf(b, 1) {
		return 0, false
	}
	return max(0, b-s.Audio) * Headroom, true
}
