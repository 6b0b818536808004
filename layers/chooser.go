package layers

import "time"

// Params tunes a Chooser. A zero field takes its default (DefaultParams).
type Params struct {
	// DownAfter is how long the budget must stay below the current layer's bitrate before the
	// viewer moves down: the move is then decided, and the output switches at the target's next
	// keyframe.
	DownAfter time.Duration
	// Wait is the first wait before probing for a higher layer: after the viewer starts, after a
	// down-switch and after a successful up-switch. Each failed probe doubles it, up to MaxWait.
	Wait, MaxWait time.Duration
	// Probe is how long a probe lasts: the sender pads up to the higher layer's rate, and the
	// viewer moves up only if its path showed no overuse throughout and its budget reached that
	// rate after Settle, the start of a probe whose budget is not judged yet (the estimators need
	// feedback on the padding first).
	Probe, Settle time.Duration
	// Trial is how long after an up-switch a down-switch counts as a failed probe (doubling the wait).
	Trial time.Duration
	// Stable is how long without a failed probe or a down-switch, once a probe has held since the
	// last of them, resets the wait to Wait. (A viewer whose probes keep failing keeps its wait.)
	Stable time.Duration
}

// DefaultParams are the rules of research/simulcast.md §4.2, with probing in front of every
// up-switch (issue 12): down within DownAfter plus a keyframe, up after a Probe that held.
var DefaultParams = Params{
	DownAfter: time.Second,
	Wait:      4 * time.Second,
	MaxWait:   60 * time.Second,
	Probe:     3 * time.Second,
	Settle:    time.Second,
	Trial:     5 * time.Second,
	Stable:    60 * time.Second,
}

func (p Params) withDefaults() Params {
	d := DefaultParams
	for _, f := range []struct{ v, def *time.Duration }{
		{&p.DownAfter, &d.DownAfter}, {&p.Wait, &d.Wait}, {&p.MaxWait, &d.MaxWait}, {&p.Probe, &d.Probe},
		{&p.Settle, &d.Settle}, {&p.Trial, &d.Trial}, {&p.Stable, &d.Stable},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return p
}

// startGrace is how long after its first decision a viewer's evidence does not move it down: a
// joining viewer gets the cached GOP in a burst (fast start), which queues on a slow path for a
// moment whatever layer it receives.
const startGrace = 3 * time.Second

// inactiveGrace is how long a viewer whose layer stopped, while only higher layers send, keeps it
// before moving up without a probe.
const inactiveGrace = 3 * time.Second

// congestedDown is the share of the current layer's bitrate below which a congested path's
// measured capacity moves the viewer down at once: a margin, as the capacity is measured over half
// a second and the layer's bitrate over a second (between keyframes a layer runs below its average).
const congestedDown = 0.8

// Reason says why a Decision is what it is; it is logged with every layer switch.
type Reason string

// Reasons of a Decision.
const (
	Hold        Reason = "hold"         // nothing to change
	Start       Reason = "start"        // the viewer's first layer
	Down        Reason = "down"         // the budget stayed below the current layer
	Up          Reason = "up"           // a probe for the next layer held
	Probing     Reason = "probing"      // a probe is running: send Decision.Probe
	ProbeFailed Reason = "probe-failed" // the budget did not hold the probe: the wait doubles
	Pinned      Reason = "pin"          // the player pinned this layer
	Capped      Reason = "cap"          // the current layer is above the player's caps
	Inactive    Reason = "inactive"     // the current layer stopped (or is gone)
)

// Decision is a Chooser's answer: the layer the viewer's output should follow.
type Decision struct {
	// Target is the ID of the layer to forward; the output switches at its next keyframe.
	// It is "" while no layer has been active yet (or for a stream's only layer, whose ID is "").
	Target string
	// Probe, when not 0, is the total rate in bits per second the viewer should be sent while a
	// probe runs: the sender adds padding (or repeats recent packets) on top of the media up to it.
	Probe float64
	// Reason says why.
	Reason Reason
}

// Chooser picks one viewer's layer. It is not safe for concurrent use: the viewer's allocator
// goroutine owns it, calling Choose on a tick (every 250 ms, say) and SetChoice when the player
// asks. It keeps no history beyond a few fields: memory is constant.
type Chooser struct {
	p      Params
	choice Choice

	started   bool      // a first decision was made
	cur       string    // the layer decided last
	below     time.Time // since when the budget is below cur's bitrate; zero when it is not
	wait      time.Duration
	nextProbe time.Time // no probe starts before
	trouble   time.Time // the last failed probe or down-switch
	upAt      time.Time // the last up-switch (its trial)

	startAt    time.Time // the first decision
	gone       time.Time // since when only layers above the current one send; zero otherwise
	probeTo    string    // the layer being probed; "" when none
	probeStart time.Time
	probeHeld  bool   // the budget reached the probed layer's need once the probe settled
	probeBest  string // the highest layer the budget reached while the probe settled, "" none
	// ceiling is the lowest layer a probe failed for since the path last changed ("" none): the
	// next probe aims below it. A probe aims at the highest layer the caps allow, so a path
	// whose cap is lifted climbs in one probe, not one per layer.
	ceiling string
}

// NewChooser returns a Chooser with automatic selection.
func NewChooser(p Params) *Chooser {
	p = p.withDefaults()
	return &Chooser{p: p, wait: p.Wait}
}

// SetChoice records what the player asked (WHEPX-06); the next Choose applies it.
func (c *Chooser) SetChoice(ch Choice) { c.choice = ch }

// Choice returns what the player asked last.
func (c *Chooser) Choice() Choice { return c.choice }

// Wait returns the current wait between a failed probe or a down-switch and the next probe.
func (c *Chooser) Wait() time.Duration { return c.wait }

// Choose decides the viewer's layer at now, from the stream's layers as measured now and the
// viewer's bandwidth signals. The rules (research/simulcast.md §4.2, issue 12):
//   - layers rank by measured resolution, then bitrate (Rank), never by rid;
//   - a pinned, active layer is forwarded whatever the budget; a pinned layer that is inactive
//     falls back to the automatic choice until it returns;
//   - the automatic choice stays within the caps, and never goes below the lowest active layer;
//   - down fast: once the capacity the evidence shows (Signals.Capacity) has stayed below the
//     current layer's bitrate for DownAfter, or at once when the path is congested and its capacity
//     is well below the layer, the target becomes the highest layer whose bitrate fits the budget;
//   - up slow: after the wait, a probe aiming at the highest layer the caps allow (below one a
//     probe failed for since the path changed); up to it only if the budget held its rate once
//     the probe settled and the path showed no overuse, else up to the highest layer between
//     whose rate the budget held; a failed probe (or a down-switch within Trial of an up-switch)
//     doubles the wait up to MaxWait, one that held halves it;
//     any other down-switch (the path changed) and Stable without trouble after a probe that
//     held reset it;
//   - a current layer that stops, or that the caps exclude, is left at once, never for a higher one.
func (c *Chooser) Choose(now time.Time, ls []Layer, sig Signals) Decision {
	ranked := Rank(ls)
	budget, known := sig.Budget()
	if c.wait > c.p.Wait && c.upAt.After(c.trouble) && now.Sub(c.trouble) >= c.p.Stable {
		c.wait, c.ceiling = c.p.Wait, ""
	}
	if pin, ok := find(ranked, c.choice.Pin); ok && c.choice.Pin != "" && pin.Active {
		c.probeTo, c.below = "", time.Time{}
		return c.move(pin.ID, Pinned)
	}
	cands := c.choice.candidates(ranked)
	if len(cands) == 0 {
		return Decision{Target: c.cur, Reason: Hold} // nothing is sending: keep what we have
	}
	cur, curKnown := find(ranked, c.cur)
	if _, ok := find(cands, c.cur); ok {
		c.gone = time.Time{}
	}
	if _, ok := find(cands, c.cur); !ok || !c.started {
		return c.replace(now, cands, cur, curKnown, budget, known)
	}

	// Down on evidence that the path carries less than the layer (its capacity, without Headroom
	// nor the cap by what was sent: an estimate that merely trails what is sent is no reason to
	// leave), for DownAfter; at once when it is congested and its capacity well below the layer.
	capacity, _ := sig.Capacity()
	if known && capacity < cur.Bitrate && now.Sub(c.startAt) >= startGrace {
		if c.below.IsZero() {
			c.below = now
		}
	} else {
		c.below = time.Time{}
	}
	clearlyBelow := sig.Congested && capacity < congestedDown*cur.Bitrate
	if !c.below.IsZero() && (now.Sub(c.below) >= c.p.DownAfter || clearlyBelow) {
		if t := fit(notAbove(cands, cur, true), budget); t.ID != c.cur {
			if !c.upAt.IsZero() && now.Sub(c.upAt) < c.p.Trial {
				c.fail(now) // the up-switch was wrong
				c.ceiling = c.cur
			} else {
				// The path changed: what the failed probes before said about it is stale (a
				// path whose cap is lifted later must not wait out the longest back-off).
				c.wait, c.ceiling = c.p.Wait, ""
			}
			c.probeTo, c.trouble, c.nextProbe = "", now, now.Add(c.wait)
			return c.move(t.ID, Down)
		}
	}
	if c.probeTo != "" {
		return c.probe(now, cands, cur, budget, known, sig)
	}
	clear := !sig.Congested && !sig.Overuse // a probe starts only on a path that drains
	if next, ok := c.aim(cands, cur); ok && known && clear && c.below.IsZero() && !now.Before(c.nextProbe) {
		c.probeTo, c.probeStart, c.probeHeld, c.probeBest = next.ID, now, false, ""
		return Decision{Target: c.cur, Probe: next.need(), Reason: Probing}
	}
	return Decision{Target: c.cur, Reason: Hold}
}

// replace picks a layer when the current one is not a candidate: the first decision, or the
// current layer stopped, vanished or is above the caps.
func (c *Chooser) replace(now time.Time, cands []Layer, cur Layer, curKnown bool, budget float64, known bool) Decision {
	c.probeTo, c.below = "", time.Time{}
	if !c.started {
		// Start in the middle, or lower when the budget is known to be smaller; probe up later.
		t := cands[(len(cands)-1)/2]
		if known && budget < t.Bitrate {
			t = fit(cands, budget)
		}
		c.nextProbe, c.startAt = now.Add(c.wait), now
		return c.move(t.ID, Start)
	}
	reason := Inactive
	if curKnown && cur.Active {
		reason = Capped
	}
	if reason == Inactive && curKnown && compare(cands[0], cur) > 0 {
		// Only higher layers send: a stall of the publisher (its lower layers come back after
		// its higher ones) or a lower layer it stopped. Keep the layer for inactiveGrace
		// before taking a higher one without a probe.
		if c.gone.IsZero() {
			c.gone = now
		}
		if now.Sub(c.gone) < inactiveGrace {
			return Decision{Target: c.cur, Reason: Hold}
		}
	}
	c.gone = time.Time{}
	// Never up without a probe: the highest candidate not above the old layer, within the budget.
	lower := notAbove(cands, cur, curKnown)
	t := lower[len(lower)-1]
	if known {
		t = fit(lower, budget)
	}
	return c.move(t.ID, reason)
}

// aim returns the layer a probe from cur aims at: the highest candidate below the ceiling (a
// layer a probe failed for), else the next one above cur; false at the top.
func (c *Chooser) aim(cands []Layer, cur Layer) (Layer, bool) {
	t, ok := above(cands, cur)
	if !ok {
		return Layer{}, false
	}
	ceil, capped := find(cands, c.ceiling)
	for _, l := range cands {
		if compare(l, t) > 0 && (!capped || compare(l, ceil) < 0) {
			t = l
		}
	}
	return t, true
}

// probe runs a probe for c.probeTo: it ends as soon as the path shows overuse or congestion, or
// at Probe. It succeeds if the budget reached the probed layer's need once it settled (between
// Settle and Probe) and the path showed no overuse; otherwise the viewer still moves up to the
// highest layer between whose need the budget reached once settled, without overuse, and the
// wait doubles; with none, the probe failed (the wait doubles, the next aims lower).
func (c *Chooser) probe(now time.Time, cands []Layer, cur Layer, budget float64, known bool, sig Signals) Decision {
	n, ok := find(cands, c.probeTo)
	if !ok || compare(n, cur) <= 0 {
		c.probeTo = "" // the layer stopped, or the caps changed: nothing to judge
		return Decision{Target: c.cur, Reason: Hold}
	}
	elapsed := now.Sub(c.probeStart)
	overuse := sig.Overuse || sig.Congested
	if elapsed >= c.p.Settle && known && !overuse {
		best, had := find(cands, c.probeBest)
		for _, l := range cands {
			if compare(l, cur) > 0 && compare(l, n) <= 0 && budget >= l.need() && (!had || compare(l, best) > 0) {
				best, had = l, true
			}
		}
		if had {
			c.probeBest = best.ID
		}
		c.probeHeld = c.probeHeld || c.probeBest == n.ID
	}
	if !overuse && elapsed >= c.p.Probe && c.probeHeld {
		// A probe that held halves the wait (a path whose cap was lifted climbs back in a few
		// probes, not after the longest wait its failures built up).
		c.wait = max(c.p.Wait, c.wait/2)
		c.probeTo, c.upAt, c.nextProbe, c.ceiling = "", now, now.Add(c.wait), ""
		return c.move(n.ID, Up)
	}
	if overuse || elapsed >= c.p.Probe {
		c.fail(now)
		c.ceiling = n.ID
		c.probeTo, c.trouble, c.nextProbe = "", now, now.Add(c.wait)
		if best, ok := find(cands, c.probeBest); ok && compare(best, cur) > 0 {
			c.upAt = now.Add(time.Nanosecond) // its trial runs; after the failure for Stable
			return c.move(best.ID, Up)
		}
		return Decision{Target: c.cur, Reason: ProbeFailed}
	}
	return Decision{Target: c.cur, Probe: n.need(), Reason: Probing}
}

// fail doubles the wait before the next probe, up to MaxWait.
func (c *Chooser) fail(now time.Time) {
	c.wait = min(2*c.wait, c.p.MaxWait)
	c.trouble = now
}

func (c *Chooser) move(id string, r Reason) Decision {
	if id != c.cur {
		c.below = time.Time{}
	}
	c.cur, c.started = id, true
	return Decision{Target: id, Reason: r}
}

// fit returns the highest of ranked (lowest first, not empty) whose bitrate is within budget,
// else the lowest: a broadcast viewer always gets video.
func fit(ranked []Layer, budget float64) Layer {
	t := ranked[0]
	for _, l := range ranked[1:] {
		if l.Bitrate <= budget {
			t = l
		}
	}
	return t
}

// notAbove returns the prefix of ranked (lowest first, not empty) that ranks no higher than cur,
// at least its lowest layer; all of ranked when cur is not known.
func notAbove(ranked []Layer, cur Layer, known bool) []Layer {
	n := 1
	for i, l := range ranked {
		if !known || compare(l, cur) <= 0 {
			n = i + 1
		}
	}
	return ranked[:n]
}

// above returns the lowest layer of ranked that ranks above cur.
func above(ranked []Layer, cur Layer) (Layer, bool) {
	for _, l := range ranked {
		if compare(l, cur) > 0 {
			return l, true
		}
	}
	return Layer{}, false
}

func find(ls []Layer, id string) (Layer, bool) {
	for _, l := range ls {
		if l.ID == id {
			return l, true
		}
	}
	return Layer{}, false
}
