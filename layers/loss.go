package layers

import "time"

// LossParams tunes a LossEstimator; a zero field takes its default (DefaultLossParams).
type LossParams struct {
	// Initial is the estimate a viewer starts from after its first report, and returns to when
	// reports stop for Stale.
	Initial float64
	// Min and Max bound the estimate, in bits per second.
	Min, Max float64
	// Stale is how long without a report makes the estimate fall back to Initial.
	Stale time.Duration
}

// DefaultLossParams follow Galène's AIMD (research/simulcast.md §4.1 item 3).
var DefaultLossParams = LossParams{Initial: 512_000, Min: 64_000, Max: 100_000_000, Stale: 5 * time.Second}

// Loss thresholds and steps, as fractions.
const (
	lossLow      = 0.02 // below: the path carries what was sent; grow
	lossHigh     = 0.10 // above: shrink by half the loss
	lossGrow     = 1.05 // multiplicative increase per report
	lossGrowFrom = 0.75 // grow only when at least this share of the estimate was sent
)

// LossEstimator is a loss-based bandwidth estimate for one viewer, from the fraction lost its
// receiver reports give (RFC 3550 §6.4.1) and the rate it was sent: multiplicative increase while
// loss is under 2 %, decrease to what arrived above 10 %, hold between. Memory is constant.
//
// Two changes from Galène's rule. So a padding probe (Chooser) can prove a higher rate to a
// viewer that sends only receiver reports, a report with low loss raises the estimate to at least
// what was sent. And a decrease goes to what the path carried (what was sent less what was lost),
// not half the loss off: over 10 % lost is congestion, and what arrived is the path's capacity.
// It is not safe for concurrent use.
type LossEstimator struct {
	p    LossParams
	rate float64   // bits per second; 0 before the first report
	last time.Time // the latest report
}

// NewLossEstimator returns an estimator that knows nothing until its first report.
func NewLossEstimator(p LossParams) *LossEstimator {
	d := DefaultLossParams
	if p.Initial <= 0 {
		p.Initial = d.Initial
	}
	if p.Min <= 0 {
		p.Min = d.Min
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Stale <= 0 {
		p.Stale = d.Stale
	}
	return &LossEstimator{p: p}
}

// Report feeds one receiver report: fractionLost as the report carries it (lost/256 since the
// previous report) and sent, the rate in bits per second the viewer was sent over that interval.
func (e *LossEstimator) Report(now time.Time, fractionLost uint8, sent float64) {
	if e.rate == 0 || now.Sub(e.last) > e.p.Stale {
		e.rate = e.p.Initial
	}
	e.last = now
	loss := float64(fractionLost) / 256
	switch {
	case loss < lossLow:
		e.rate = max(e.rate, sent)
		if sent >= lossGrowFrom*e.rate {
			e.rate *= lossGrow
		}
	case loss > lossHigh:
		// What arrived of what was sent: not of the estimate already lowered by the report
		// before (two reports close together, as a stalled player sends them, would compound
		// one loss into a rate below what the path carried).
		base := e.rate
		if sent > 0 {
			base = sent
		}
		e.rate = base * (1 - loss)
	}
	e.rate = min(max(e.rate, e.p.Min), e.p.Max)
}

// Estimate returns the estimate in bits per second at now: 0 before any report (no evidence),
// Initial once reports have stopped for Stale.
func (e *LossEstimator) Estimate(now time.Time) float64 {
	switch {
	case e.rate == 0:
		return 0
	case now.Sub(e.last) > e.p.Stale:
		return e.p.Initial
	}
	return e.rate
}
