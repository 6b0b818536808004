package whep

import (
	"math"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/layers"
	"github.com/wisp-media/wisp/stream"
)

// padTick is how often a running probe tops up what the viewer is sent with padding: small steps,
// so the padding crosses the viewer's path evenly instead of in bursts a shaper would drop.
const padTick = 20 * time.Millisecond

// padCatchUp bounds how many padTicks one late step may make up (a loaded machine delays tickers).
const padCatchUp = 10

// probeMargin is how far above the rate a probe must prove the padding aims: what a viewer is
// measured to be sent trails what is written (ticks, the meter's window).
const probeMargin = 1.2

// chooserParams are layers.DefaultParams but for Settle: the evidence of a probe needs two
// seconds here, as what the viewer was sent is a one-second average (layers.Meter) and a receiver
// reports about once a second, so the loss-based estimate sees the probe's rate only then.
var chooserParams = layers.Params{Settle: 2 * time.Second}

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
		sig.Estimate = float64(v.est.GetTargetBitrate())
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
// layers and the viewer's bandwidth signals (the send-side estimate, REMB, the loss-based estimate,
// what it was sent) and makes the Output follow the chosen layer, switching at its next keyframe.
// While the chooser probes for a higher layer, padding tops up what the viewer is sent to the
// probe's rate every padTick (bounded: at most one padTick's deficit per step, nothing queued).
// It returns when the session ends.
func (v *Viewer) autoLayer(out *stream.Output) {
	track := v.stream.Track(webrtc.RTPCodecTypeVideo)
	chooser := v.chooser
	decide := time.NewTicker(layerTick)
	defer decide.Stop()
	pad := time.NewTicker(padTick)
	pad.Stop()
	defer pad.Stop()
	var (
		meter     layers.Meter
		lastBytes uint64
		topUp     float64 // the rate padding tops up to; 0: no padding
		padAt     time.Time
		following = v.first // what the Output was told last
		switched  time.Time // when the Output began sending following
		probeNACK uint64    // the player's NACK count when the running probe began
		aborted   bool      // the running probe hurt the media: no more padding for it
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
				if v.overused() {
					// The path's queue grows (GCC's delay gradient): stop before it drops.
					aborted, topUp = true, 0
					pad.Stop()
					continue
				}
				if want := topUp * dt.Seconds() / 8; want > float64(lastBytes-before) {
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
			sig.REMB, sig.Loss = s.REMB, s.Loss
		}
		if v.est != nil {
			sig.Estimate = float64(v.est.GetTargetBitrate())
		}
		feeds := track.Feeds()
		ls := feedLayers(feeds, now)
		d := chooser.Choose(now, ls, sig)
		budget, _ := sig.Budget()
		if d.Reason == layers.ProbeFailed || (d.Reason == layers.Probing && topUp == 0) {
			v.log.Debug("layer probe", "reason", string(d.Reason), "rate", int(d.Probe/layers.Headroom), "budget", int(budget),
				"estimate", int(sig.Estimate), "remb", int(sig.REMB), "loss_estimate", int(sig.Loss), "sent", int(sent), "padded", out.Padded())
		}
		want := following
		for i, f := range feeds {
			if f.RID() == d.Target && f != following {
				want = f
				out.Follow(f)
				following, switched = f, time.Time{}
				v.log.Info("layer", "follow", d.Target, "reason", string(d.Reason), "bitrate", int(ls[i].Bitrate),
					"budget", int(budget), "estimate", int(sig.Estimate), "remb", int(sig.REMB),
					"loss_estimate", int(sig.Loss), "sent", int(sent))
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
			nacks, _ := v.RTCPCounts()
			if topUp == 0 {
				probeNACK, aborted = nacks, false
			}
			cur, ok := findLayer(ls, following)
			if aborted || nacks > probeNACK || (ok && budget < cur.Bitrate) {
				// The probe already costs the media packets (the player asks for them again) or
				// the current layer its budget: the path is full. Stop adding to it; the chooser
				// fails the probe once it has settled.
				next, aborted = 0, true
			}
		case want != nil && (switched.IsZero() || now.Sub(switched) < sustain):
			// After a move up, the Output still sends the old layer until the new one's keyframe,
			// and what the viewer was sent (which caps the send-side estimate) trails a second
			// behind: keep the path carrying the new layer's rate meanwhile, so the move is not
			// undone by its own delay.
			for _, l := range ls {
				if l.ID == want.RID() {
					next = l.Bitrate
				}
			}
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

// findLayer returns the layer of f among ls.
func findLayer(ls []layers.Layer, f *stream.Feed) (layers.Layer, bool) {
	if f == nil {
		return layers.Layer{}, false
	}
	for _, l := range ls {
		if l.ID == f.RID() {
			return l, true
		}
	}
	return layers.Layer{}, false
}

// overused reports whether the viewer's send-side estimator sees its path's queue grow (GCC's
// overuse state from the delay gradient of transport-cc feedback): a probe stops adding to a
// path before its queue overflows.
func (v *Viewer) overused() bool {
	if v.est == nil {
		return false
	}
	return v.est.GetStats()["usage"] == "overuse"
}
