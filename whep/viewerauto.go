package whep

import (
	"math"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/rtc"
	"github.com/wisp-media/wisp/stream"
)

// padTick is how often a running probe tops up what the viewer is sent with padding: small steps,
// so the padding crosses the viewer's path evenly instead of in bursts a shaper would drop.
const padTick = 20 * time.Millisecond

// padCatchUp bounds how many padTicks one late step may make up (a loaded machine delays tickers).
const padCatchUp = 10

// probeMargin is how far above the rate a probe must prove the padding aims: what a viewer is
// measured to be sent trails what is written (ticks, the meter's window).
const probeMargin = 1.35

// chooserParams are layers.DefaultParams but for Settle and Probe: the padding ramps up over
// probeRamp, what the viewer was sent is a one-second average (layers.Meter) and a receiver
// reports about once a second, so the loss-based estimate of a viewer without transport-cc sees
// the probe's full rate only about three seconds in.
var chooserParams = layers.Params{Settle: 4500 * time.Millisecond, Probe: 5500 * time.Millisecond}

// probeRamp is how long a probe's padding takes to climb from what the viewer is sent to the
// probe's rate: a path that cannot carry it shows a queue (or loss) while the excess is small,
// and the probe stops there instead of flooding it.
const probeRamp = 3500 * time.Millisecond

// maxGain bounds how far the padding steps make up for ticks that came late.
const maxGain = 2.5

// resendShare is the share of the viewer's budget NACK retransmissions may take, and resendFloor
// the least they may take (stream.Output.SetResendLimit).
const (
	resendShare = 0.3
	resendFloor = 100_000
)

// nackWindow is how many layerTicks the loss rate from NACKs is taken over (half a second: a
// viewer without transport-cc has nothing faster, its receiver reports come once a second), and
// nackCongested the rate from which it shows congestion (the loss estimator's 10 %).
const (
	nackWindow    = 2
	nackCongested = 0.1
)

// signalLog is how often the loop logs its signals at debug level (every layerTick × signalLog).
const signalLog = 4

// sustain is how long after the Output began sending a newly chosen layer padding still tops up
// to that layer's rate: the one-second window of what the viewer was sent, and a margin.
const sustain = 1500 * time.Millisecond

// startAuto starts the viewer's automatic layer choice once it is connected, if it watches a
// simulcast stream and no keeper runs yet: from then on this loop alone tells the video Output
// which Feed to follow, applying the player's pins and caps (SetLayerChoice) first.
func (v *Viewer) startAuto() {
	if !v.auto || v.chooser == nil {
		return
	}
	out := v.videoOutput()
	if out == nil {
		return
	}
	v.mu.Lock()
	start := !v.layerKeeper && !v.closing
	v.layerKeeper = true
	v.mu.Unlock()
	if start {
		v.Go(func() { v.autoLayer(out) })
	}
}

// firstLayer makes a simulcast viewer's first decision before its video Output starts, so it
// joins on the layer chosen for it (from the initial send-side estimate) rather than on the
// stream-wide one: the chooser's start, the middle layer or a lower one that fits. nil for other
// viewers (the stream-wide choice).
func (v *Viewer) firstLayer() *stream.Feed {
	if !v.auto {
		return nil
	}
	v.chooser = layers.NewChooser(chooserParams)
	now := time.Now()
	var sig layers.Signals
	if v.est != nil {
		sig.Estimate = rtc.InitialEstimate // no feedback yet
	}
	v.mu.Lock()
	v.chooser.SetChoice(v.layerChoice)
	v.mu.Unlock()
	feeds := v.stream.Track(webrtc.RTPCodecTypeVideo).Feeds()
	d := v.chooser.Choose(now, feedLayers(feeds, now), sig)
	for _, f := range feeds {
		if f.RID() == d.Target {
			v.first = f
			v.log.Info("layer", "follow", d.Target, "reason", string(d.Reason), "estimate", int(sig.Estimate))
		}
	}
	return v.first
}

// feedback reads one compound RTCP packet the player sent into its REMB and loss estimate.
func (v *Viewer) feedback(pkts []rtcp.Packet) {
	if v.fb == nil {
		return
	}
	sent := math.Float64frombits(v.sentRate.Load())
	v.fbMu.Lock()
	v.fb.Read(time.Now(), pkts, sent)
	v.fbMu.Unlock()
}

// autoLayer is the viewer's layer chooser (layers.Chooser): every layerTick it reads the stream's
// layers and the viewer's bandwidth signals (transport-cc feedback through rtc.Estimate, REMB, the
// loss-based estimate, what it was sent) and makes the Output follow the chosen layer, switching
// at its next keyframe. While the chooser probes for a higher layer, padding tops up what the
// viewer is sent every padTick, ramping to the probe's rate over probeRamp, and stops at the first
// sign of overuse (a queue building or loss in the feedback, or the player's NACKs); bounded: at
// most one padTick's deficit per step, nothing queued. It also bounds the viewer's NACK
// retransmissions by its budget. It returns when the session ends.
func (v *Viewer) autoLayer(out *stream.Output) {
	track := v.stream.Track(webrtc.RTPCodecTypeVideo)
	chooser := v.chooser
	decide := time.NewTicker(layerTick)
	defer decide.Stop()
	pad := time.NewTicker(padTick)
	pad.Stop()
	defer pad.Stop()
	var (
		meter      layers.Meter
		lastBytes  uint64
		topUp      float64 // the rate padding tops up to now; 0: no padding
		padAt      time.Time
		following  = v.first // what the Output was told last
		switched   time.Time // when the Output began sending following
		probeNACK  uint64    // the media packets the player had NACKed when the running probe began
		probeStart time.Time // when the running probe's padding began; zero: no probe
		probeFrom  float64   // what the viewer was sent then
		probeTo    float64   // the rate the probe's padding ramps to
		gain       float64   // how much more padding than the shortfall a step sends (late ticks)
		aborted    bool      // the running probe hurt the media: no more padding for it
		ticks      int
		losses     [nackWindow + 1][2]uint64 // media packets sent and NACKed, per tick, ring
	)
	sample := func(now time.Time) float64 {
		sent, _ := v.Traffic()
		meter.Add(now, int(sent-lastBytes))
		lastBytes = sent
		avg, _ := meter.Rate(now)
		v.sentRate.Store(math.Float64bits(avg))
		return avg
	}
	lastBytes, _ = v.Traffic()
	for first := true; ; first = false {
		if !first {
			select {
			case <-v.Context().Done():
				return
			case <-v.layerWake:
			case now := <-pad.C:
				// Top up what this step carried to the rate; a late step catches up at most
				// padCatchUp steps (nothing accumulates).
				before := lastBytes
				sample(now)
				dt := min(now.Sub(padAt), padCatchUp*padTick)
				padAt = now
				if v.overused(out, now, probeNACK) && !probeStart.IsZero() {
					// The path's queue grows or it loses packets: stop before it drops media.
					aborted, topUp = true, 0
					pad.Stop()
					v.log.Debug("layer probe stopped", "after", now.Sub(probeStart).Round(time.Millisecond),
						"rate", int(probeFrom+(probeTo-probeFrom)*min(1, now.Sub(probeStart).Seconds()/probeRamp.Seconds())))
					continue
				}
				rate := topUp
				if !probeStart.IsZero() {
					rate = probeFrom + (probeTo-probeFrom)*min(1, now.Sub(probeStart).Seconds()/probeRamp.Seconds())
				}
				if want := max(gain, 1) * rate * dt.Seconds() / 8; want > float64(lastBytes-before) {
					out.Pad(int(want) - int(lastBytes-before))
				}
				continue
			case <-decide.C:
			}
		}
		now := time.Now()
		sent := sample(now)
		v.mu.Lock()
		chooser.SetChoice(v.layerChoice)
		v.mu.Unlock()
		sig := layers.Signals{Sent: sent}
		if v.fb != nil {
			v.fbMu.Lock()
			s := v.fb.Signals(now, sent)
			v.fbMu.Unlock()
			sig.REMB, sig.Loss, sig.Congested = s.REMB, s.Loss, s.Congested
		}
		var ds layers.DeliverySignals
		if v.est != nil {
			ds = v.est.Signals(now)
			sig.Estimate = ds.Estimate()
			sig.Congested = sig.Congested || ds.Congested
			if ds.Feedback {
				// transport-cc feedback tells loss and queue every 100 ms: the loss-based
				// estimate, which follows what was sent a report (a second) late, is for
				// players without it.
				sig.Loss = 0
			}
		}
		// The player's NACKs over the last half second: a loss rate within 100 ms of the loss, where
		// receiver reports take a second (a viewer without transport-cc has nothing faster).
		mediaSent, nacked := out.Losses()
		losses[ticks%len(losses)] = [2]uint64{mediaSent, nacked}
		old := losses[(ticks+1)%len(losses)]
		nackLoss := 0.0
		if n := mediaSent - old[0]; ticks >= nackWindow && n >= 20 {
			nackLoss = min(1, float64(nacked-old[1])/float64(n))
		}
		if nackLoss > nackCongested {
			sig.Congested = true
			c := sent * (1 - nackLoss) // what the path carried
			if sig.Loss == 0 || c < sig.Loss {
				sig.Loss = c
			}
		}
		sig.Overuse = !probeStart.IsZero() && (aborted || v.overused(out, now, probeNACK))
		feeds := track.Feeds()
		ls := feedLayers(feeds, now)
		d := chooser.Choose(now, ls, sig)
		budget, _ := sig.Budget()
		if budget > 0 {
			out.SetResendLimit(max(resendShare*budget, resendFloor))
		}
		if ticks++; ticks%signalLog == 0 || d.Reason == layers.ProbeFailed || d.Reason == layers.Down {
			nacks, _ := v.RTCPCounts()
			v.log.Debug("layer signals", "reason", string(d.Reason), "target", d.Target, "budget", int(budget),
				"sent", int(sent), "feedback", ds.Feedback, "delivered", int(ds.Delivered), "loss", ds.Loss,
				"queue", ds.Queue.Round(time.Millisecond), "congested", sig.Congested, "overuse", sig.Overuse,
				"remb", int(sig.REMB), "loss_estimate", int(sig.Loss), "nacks", nacks, "nack_loss", nackLoss,
				"resent", out.Resent(), "resend_denied", out.ResendDenied(), "padded", out.Padded(), "probe", int(d.Probe), "probe_to", int(probeTo))
		}
		want := following
		for i, f := range feeds {
			if f.RID() == d.Target && f != following {
				want = f
				out.Follow(f)
				following, switched = f, time.Time{}
				v.log.Info("layer", "follow", d.Target, "reason", string(d.Reason), "bitrate", int(ls[i].Bitrate),
					"budget", int(budget), "congested", sig.Congested, "delivered", int(ds.Delivered),
					"remb", int(sig.REMB), "loss_estimate", int(sig.Loss), "sent", int(sent))
			}
		}
		if want != nil && switched.IsZero() && out.Feed() == want {
			switched = now
		}
		next := 0.0
		switch {
		case d.Probe > 0:
			// The budget keeps Headroom of the evidence: to prove the probed layer's rate, the
			// viewer must be seen carrying that rate divided by Headroom.
			next = probeMargin * d.Probe / layers.Headroom
			if probeStart.IsZero() {
				_, probeNACK = out.Losses()
				probeStart, probeFrom, probeTo, aborted, gain = now, sent, next, false, 1
			} else if el := now.Sub(probeStart) - 500*time.Millisecond; el > 0 {
				// Ticks come late on a loaded machine and each makes up a bounded share: steer
				// what is sent to the ramp by how far the last second's average (about the
				// ramp half a second ago) fell short, from the start of the ramp on.
				aim := probeFrom + (probeTo-probeFrom)*min(1, el.Seconds()/probeRamp.Seconds())
				switch {
				case sent < 0.95*aim:
					gain = min(gain*1.15, maxGain)
				case sent > 1.05*aim:
					gain = max(gain/1.15, 1)
				}
			}
			if aborted {
				next = 0 // the chooser fails the probe on this overuse
			}
		case want != nil && (switched.IsZero() || now.Sub(switched) < sustain):
			probeStart = time.Time{}
			// After a move up, the Output still sends the old layer until the new one's keyframe,
			// and what the viewer was sent (which caps the budget) trails a second behind: keep
			// the path carrying the new layer's rate meanwhile, so the move is not undone by its
			// own delay.
			for _, l := range ls {
				if l.ID == want.RID() {
					next = l.Bitrate
				}
			}
		default:
			probeStart = time.Time{}
		}
		switch {
		case next > 0 && topUp == 0 && out.CanPad():
			pad.Reset(padTick)
			padAt = now
		case next == 0 && topUp > 0:
			pad.Stop()
		}
		topUp = next
	}
}

// overused reports whether the viewer's path shows overuse now: packets of its media newly lost
// since the count was nacked (the player NACKs them; a shaper drops a probe's padding and the
// media alike), or, with transport-cc feedback (rtc.Estimate), a queue building or loss in it.
// (Feedback comes only in part while a probe pads: a receiver names in it the SSRC of the last
// packet it got, and pion reads no RTCP about the RTX SSRC the padding uses.)
func (v *Viewer) overused(out *stream.Output, now time.Time, nacked uint64) bool {
	if _, n := out.Losses(); n > nacked {
		return true
	}
	return v.est != nil && v.est.Signals(now).Overuse
}
