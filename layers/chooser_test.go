package layers

import (
	"testing"
	"time"
)

// The layers of the issue-12 scenario, listed high to low as OBS would (rid "0" its highest).
var (
	low  = Layer{ID: "2", Width: 320, Height: 180, Bitrate: 200_000, Peak: 260_000, Active: true}
	mid  = Layer{ID: "1", Width: 640, Height: 360, Bitrate: 800_000, Peak: 1_000_000, Active: true}
	high = Layer{ID: "0", Width: 1280, Height: 720, Bitrate: 2_500_000, Peak: 3_000_000, Active: true}
	obs  = []Layer{high, mid, low}
)

// off returns ls with the layer id inactive (stopped by the publisher).
func off(ls []Layer, id string) []Layer {
	out := make([]Layer, len(ls))
	for i, l := range ls {
		if l.ID == id {
			l.Active, l.Bitrate, l.Peak = false, 0, 0
		}
		out[i] = l
	}
	return out
}

// unknown is a budget with no evidence.
const unknown = -1.0

// budget returns Signals whose Budget is b (unknown: none).
func budget(b float64) Signals {
	if b == unknown {
		return Signals{}
	}
	return Signals{Loss: b / Headroom}
}

// step is one call of Choose in a script: at a time since the start, with the inputs then (nil
// layers and a nil choice keep the previous ones), and the decision expected.
type step struct {
	at     time.Duration
	layers []Layer
	budget float64
	choice *Choice
	want   string
	reason Reason // "" accepts any
	probe  bool   // a probe rate is expected
}

// run plays a script against a Chooser with a hand-driven clock, ticking every 250 ms between
// steps with the latest inputs (the allocator's cadence), and returns the Chooser.
func run(t *testing.T, steps []step) *Chooser {
	t.Helper()
	c := NewChooser(Params{})
	t0 := time.Unix(1_000_000, 0)
	var ls []Layer
	sig := budget(unknown)
	var last time.Duration = -250 * time.Millisecond
	for i, s := range steps {
		for at := last + 250*time.Millisecond; at < s.at; at += 250 * time.Millisecond {
			c.Choose(t0.Add(at), ls, sig)
		}
		if s.layers != nil {
			ls = s.layers
		}
		if s.choice != nil {
			c.SetChoice(*s.choice)
		}
		sig = budget(s.budget)
		d := c.Choose(t0.Add(s.at), ls, sig)
		if d.Target != s.want || (s.reason != "" && d.Reason != s.reason) || (d.Probe > 0) != s.probe {
			t.Fatalf("step %d at %v: got %+v, want target %q reason %q probe %v", i, s.at, d, s.want, s.reason, s.probe)
		}
		last = s.at
	}
	return c
}

const sec = time.Second

// TestChooser walks every rule of the chooser (issue 12, research/simulcast.md §4.2) with a
// hand-driven clock: start, down fast, up only after a probe that held, failed probes doubling
// the wait, the floor, pins, caps, inactive layers. WHEPX-06 (pin, caps, revert) at the
// decision level; whep/layer_test.go covers the HTTP side.
func TestChooser(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"starts in the middle without evidence", []step{
			{at: 0, layers: obs, budget: unknown, want: "1", reason: Start},
			{at: 30 * sec, budget: unknown, want: "1", reason: Hold}, // no evidence: no probe, no move
		}},
		{"starts lower when the budget is known to be smaller", []step{
			{at: 0, layers: obs, budget: 500_000, want: "2", reason: Start},
		}},
		{"starts in the middle even with a large budget", []step{
			{at: 0, layers: obs, budget: 10e6, want: "1", reason: Start},
		}},
		{"down within DownAfter of the budget falling below the layer", []step{
			{at: 0, layers: obs, budget: 10e6, want: "1", reason: Start},
			{at: 3 * sec, budget: 300_000, want: "1", reason: Hold}, // startGrace is over
			{at: 3*sec + 750*time.Millisecond, budget: 300_000, want: "1", reason: Hold},
			{at: 4 * sec, budget: 300_000, want: "2", reason: Down},
		}},
		{"a dip shorter than DownAfter changes nothing", []step{
			{at: 0, layers: obs, budget: 1.5e6, want: "1", reason: Start},
			{at: 2 * sec, budget: 300_000, want: "1", reason: Hold},
			{at: 2*sec + 750*time.Millisecond, budget: 1.5e6, want: "1", reason: Hold},
			{at: 3*sec + 500*time.Millisecond, budget: 300_000, want: "1", reason: Hold},
		}},
		{"up only after a probe that held, one layer at a time", []step{
			{at: 0, layers: obs, budget: 10e6, want: "1", reason: Start},
			{at: 3*sec + 750*time.Millisecond, budget: 10e6, want: "1", reason: Hold},
			{at: 4 * sec, budget: 10e6, want: "1", reason: Probing, probe: true},
			{at: 6*sec + 750*time.Millisecond, budget: 10e6, want: "1", reason: Probing, probe: true},
			{at: 7 * sec, budget: 10e6, want: "0", reason: Up},
			{at: 60 * sec, budget: 10e6, want: "0", reason: Hold}, // the top: nothing to probe
		}},
		{"down goes to the highest layer that fits, not the lowest", []step{
			{at: 0, layers: obs, budget: 10e6, want: "1"},
			{at: 7 * sec, budget: 10e6, want: "0", reason: Up},
			{at: 20 * sec, budget: 1.2e6, want: "0", reason: Hold},
			{at: 21 * sec, budget: 1.2e6, want: "1", reason: Down},
		}},
		{"never below the lowest layer", []step{
			{at: 0, layers: obs, budget: 10_000, want: "2", reason: Start},
			{at: 10 * sec, budget: 10_000, want: "2", reason: Hold},
			{at: 120 * sec, budget: 10_000, want: "2", reason: Hold},
		}},
		{"a pin overrides the budget, and reverting leaves it to the budget", []step{
			{at: 0, layers: obs, budget: 300_000, want: "2", reason: Start},
			{at: 1 * sec, budget: 300_000, choice: &Choice{Pin: "0"}, want: "0", reason: Pinned},
			{at: 30 * sec, budget: 300_000, want: "0", reason: Pinned},
			{at: 31 * sec, budget: 300_000, choice: &Choice{}, want: "0", reason: Hold},
			{at: 32 * sec, budget: 300_000, want: "2", reason: Down},
		}},
		{"a pinned layer that stops falls back and returns with the layer", []step{
			{at: 0, layers: obs, budget: 10e6, choice: &Choice{Pin: "0"}, want: "0", reason: Pinned},
			{at: 5 * sec, layers: off(obs, "0"), budget: 10e6, want: "1", reason: Inactive},
			{at: 9 * sec, budget: 10e6, want: "1", reason: Hold}, // no layer above mid is active: no probe
			{at: 12 * sec, layers: obs, budget: 10e6, want: "0", reason: Pinned},
		}},
		{"a pin on a layer that never existed is the automatic choice", []step{
			{at: 0, layers: obs, budget: 10e6, choice: &Choice{Pin: "x"}, want: "1", reason: Start},
		}},
		{"caps apply at once and bound the probes", []step{
			{at: 0, layers: obs, budget: 10e6, want: "1"},
			{at: 7 * sec, budget: 10e6, want: "0", reason: Up},
			{at: 8 * sec, budget: 10e6, choice: &Choice{MaxWidth: 640, MaxHeight: 360}, want: "1", reason: Capped},
			{at: 60 * sec, budget: 10e6, want: "1", reason: Hold},
			{at: 61 * sec, budget: 10e6, choice: &Choice{MaxHeight: 100}, want: "2", reason: Capped}, // none fits: the floor
			{at: 70 * sec, budget: 10e6, choice: &Choice{}, want: "2", reason: Probing, probe: true}, // caps lifted: up by probing
		}},
		{"a layer that stops is left at once, never for a higher one", []step{
			{at: 0, layers: obs, budget: 10e6, want: "1", reason: Start},
			{at: 1 * sec, layers: off(obs, "1"), budget: 10e6, want: "2", reason: Inactive},
			{at: 2 * sec, layers: obs, budget: 10e6, want: "2", reason: Hold},
		}},
		{"no active layer: hold, then start when one arrives", []step{
			{at: 0, layers: off(off(off(obs, "0"), "1"), "2"), budget: 10e6, want: "", reason: Hold},
			{at: 1 * sec, layers: off(obs, "0"), budget: 10e6, want: "2", reason: Start},
		}},
		{"a single-layer stream keeps its only layer", []step{
			{at: 0, layers: []Layer{{ID: "", Width: 1280, Height: 720, Bitrate: 2e6, Active: true}}, budget: 100_000, want: "", reason: Start},
			{at: 30 * sec, budget: 100_000, want: "", reason: Hold},
		}},
		{"an offer whose rid, resolution and bitrate orders all disagree ranks by resolution", []step{
			{at: 0, layers: disagreeing, budget: 10e6, want: "c", reason: Start}, // the middle by resolution
			{at: 7 * sec, budget: 10e6, want: "a", reason: Up},                   // the highest resolution
			{at: 8 * sec, budget: 10e6, choice: &Choice{MaxWidth: 320}, want: "b", reason: Capped},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
	}
}

// TestChooserBackoff: a failed probe doubles the wait before the next, up to MaxWait; a down-switch
// within Trial of an up-switch is a failure too; a probe that held halves it; Stable without
// trouble resets it, and so does a down-switch past Trial (the path changed).
func TestChooserBackoff(t *testing.T) {
	c := NewChooser(Params{})
	t0 := time.Unix(1_000_000, 0)
	now := t0
	tick := func(b float64) Decision {
		now = now.Add(250 * time.Millisecond)
		return c.Choose(now, obs, budget(b))
	}
	c.Choose(now, obs, budget(1.5e6)) // mid fits, high does not
	var probes []time.Duration        // when each probe started
	var waits []time.Duration
	var prev Reason
	for now.Sub(t0) < 4*time.Minute {
		d := tick(1.5e6)
		if d.Target != "1" {
			t.Fatalf("at %v: left mid: %+v", now.Sub(t0), d)
		}
		if d.Reason == Probing && prev != Probing {
			probes = append(probes, now.Sub(t0))
		}
		prev = d.Reason
		if d.Reason == ProbeFailed {
			waits = append(waits, c.Wait())
		}
	}
	wantWaits := []time.Duration{8 * sec, 16 * sec, 32 * sec, 60 * sec, 60 * sec}
	if len(waits) < len(wantWaits) {
		t.Fatalf("waits %v, want at least %v", waits, wantWaits)
	}
	for i, w := range wantWaits {
		if waits[i] != w {
			t.Fatalf("waits %v, want %v first", waits, wantWaits)
		}
	}
	// Each probe starts the wait after the previous one failed (at its end: the budget never
	// reached the need).
	for i := 1; i < len(probes) && i < len(wantWaits); i++ {
		if gap := probes[i] - probes[i-1]; gap != DefaultParams.Probe+wantWaits[i-1] {
			t.Fatalf("probes at %v: gap %d is %v, want %v", probes, i, gap, DefaultParams.Probe+wantWaits[i-1])
		}
	}

	// The path widens: the next probe holds and the viewer goes up.
	var up bool
	for end := now.Add(61 * sec); now.Before(end) && !up; {
		up = tick(10e6).Reason == Up
	}
	if !up {
		t.Fatal("no up-switch within MaxWait plus a probe once the budget allows it")
	}
	if c.Wait() != MaxWaitHalf {
		t.Fatalf("wait %v after a probe that held, want %v (half)", c.Wait(), MaxWaitHalf)
	}
	// Stable on the layer that probe reached resets the wait.
	for end := now.Add(61 * sec); now.Before(end); {
		if d := tick(10e6); d.Target != "0" {
			t.Fatalf("left high: %+v", d)
		}
	}
	if c.Wait() != DefaultParams.Wait {
		t.Fatalf("wait %v after a stable minute, want %v", c.Wait(), DefaultParams.Wait)
	}
	// Down (not a failure: the up-switch is long past): the wait stays.
	for tick(1.5e6).Reason != Down {
	}
	if c.Wait() != DefaultParams.Wait {
		t.Fatalf("wait %v after a plain down-switch, want %v", c.Wait(), DefaultParams.Wait)
	}
	// Up again, then down within Trial: a failure, the wait doubles.
	for tick(10e6).Reason != Up {
	}
	for tick(1.5e6).Reason != Down {
	}
	if c.Wait() != 2*DefaultParams.Wait {
		t.Fatalf("wait %v after a down-switch within Trial of an up-switch, want %v", c.Wait(), 2*DefaultParams.Wait)
	}
	// A down-switch past Trial, even during a probe, says the path changed: the wait restarts.
	for tick(1.5e6).Reason != Probing {
	}
	for d := tick(300_000); d.Reason != Down; d = tick(300_000) {
	}
	if c.Wait() != DefaultParams.Wait {
		t.Fatalf("wait %v after a down-switch during a probe, want %v", c.Wait(), DefaultParams.Wait)
	}
}

// disagreeing is an offer whose orders all disagree: rids a<b<c (and listed so), resolution
// b<c<a, bitrate c<a<b.
var disagreeing = []Layer{
	{ID: "a", Width: 1280, Height: 720, Bitrate: 1_000_000, Active: true},
	{ID: "b", Width: 320, Height: 180, Bitrate: 1_500_000, Active: true},
	{ID: "c", Width: 640, Height: 360, Bitrate: 500_000, Active: true},
}

// MaxWaitHalf is half of DefaultParams.MaxWait: the wait after a probe that held.
const MaxWaitHalf = 30 * time.Second

// TestChooserCongestion: a congested path whose capacity is well below the layer leaves it at the
// next decision, to the highest layer its budget fits; one only a little below leaves it after
// DownAfter; neither during startGrace (a joining viewer's fast-start burst); overuse during a
// probe fails it at once (the wait doubles).
func TestChooserCongestion(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ample := Signals{Loss: 1.2e6}
	for _, tc := range []struct {
		name     string
		capacity float64
		want     time.Duration // when the viewer leaves mid
	}{
		{"well below: at once (once startGrace is over)", 600_000, startGrace},
		{"a little below: after DownAfter", 700_000, startGrace + DefaultParams.DownAfter},
	} {
		c := NewChooser(Params{})
		if d := c.Choose(at(0), obs, ample); d.Target != "1" {
			t.Fatalf("%s: start %+v, want mid", tc.name, d)
		}
		var left time.Duration
		for step := 250 * time.Millisecond; step <= startGrace+3*time.Second && left == 0; step += 250 * time.Millisecond {
			d := c.Choose(at(step), obs, Signals{Estimate: tc.capacity, Congested: true})
			if d.Target != "1" {
				if d.Target != "2" || d.Reason != Down {
					t.Fatalf("%s: %+v, want down to low", tc.name, d)
				}
				left = step
			}
		}
		if left != tc.want {
			t.Errorf("%s: left mid at %v, want %v", tc.name, left, tc.want)
		}
	}

	c := NewChooser(Params{})
	c.Choose(at(0), obs, ample)
	now := time.Duration(0)
	for d := c.Choose(at(now), obs, ample); d.Reason != Probing; d = c.Choose(at(now), obs, ample) {
		now += 250 * time.Millisecond
	}
	now += 250 * time.Millisecond
	if d := c.Choose(at(now), obs, Signals{Loss: 1.2e6, Overuse: true}); d.Reason != ProbeFailed || d.Target != "1" {
		t.Fatalf("overuse during a probe: %+v, want a failed probe on mid", d)
	}
	if c.Wait() != 2*DefaultParams.Wait {
		t.Fatalf("wait %v after an overused probe, want %v", c.Wait(), 2*DefaultParams.Wait)
	}
}

// TestChooserProbeAim: a probe from the floor aims at the highest layer, so a path whose cap was
// lifted climbs in one probe; a probe whose budget reached only a layer between moves there (the
// wait doubles, the top failed); a probe that reached nothing fails, and the next aims lower.
func TestChooserProbeAim(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	// probeFrom drives a chooser on low until a probe starts; it returns the probe's first
	// decision and the time.
	probeFrom := func(c *Chooser, now time.Time, b float64) (Decision, time.Time) {
		for {
			now = now.Add(250 * time.Millisecond)
			if d := c.Choose(now, obs, budget(b)); d.Reason == Probing {
				return d, now
			} else if d.Target != "2" {
				t.Fatalf("left low before a probe: %+v", d)
			}
		}
	}
	// finish ticks the probe with budget b until it ends.
	finish := func(c *Chooser, now time.Time, b float64) (Decision, time.Time) {
		for {
			now = now.Add(250 * time.Millisecond)
			if d := c.Choose(now, obs, budget(b)); d.Reason != Probing {
				return d, now
			}
		}
	}

	c := NewChooser(Params{})
	c.Choose(t0, obs, budget(300_000)) // starts on low
	d, now := probeFrom(c, t0, 10e6)
	if d.Probe != high.need() {
		t.Fatalf("the first probe from low aims at %v bit/s, want high's need %v", d.Probe, high.need())
	}
	if d, _ = finish(c, now, 10e6); d.Reason != Up || d.Target != "0" {
		t.Fatalf("a probe that held for high: %+v, want up to high in one probe", d)
	}

	c = NewChooser(Params{})
	c.Choose(t0, obs, budget(300_000))
	_, now = probeFrom(c, t0, 1.5e6) // mid fits, high does not
	if d, now = finish(c, now, 1.5e6); d.Reason != Up || d.Target != "1" {
		t.Fatalf("a probe whose budget reached mid only: %+v, want up to mid", d)
	}
	if c.Wait() != 2*DefaultParams.Wait {
		t.Fatalf("wait %v after a probe that reached only mid, want %v", c.Wait(), 2*DefaultParams.Wait)
	}

	c = NewChooser(Params{})
	c.Choose(t0, obs, budget(300_000))
	_, now = probeFrom(c, t0, 300_000) // nothing above low fits
	if d, now = finish(c, now, 300_000); d.Reason != ProbeFailed || d.Target != "2" {
		t.Fatalf("a probe that reached nothing: %+v, want a failed probe on low", d)
	}
	if d, _ = probeFrom(c, now, 300_000); d.Probe != mid.need() {
		t.Fatalf("the probe after one for high failed aims at %v bit/s, want mid's need %v", d.Probe, mid.need())
	}
}
