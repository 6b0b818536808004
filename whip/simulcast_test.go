package whip

import (
	"testing"
	"time"

	"github.com/wisp-media/wisp/stream"
)

// TestLayersChoose walks a two-layer set through the chooser's rules: the first layer to arrive
// is forwarded at once; a layer carrying more bits becomes the target and takes over only at its
// keyframe; a target is asked for that keyframe at most once per layerPLIEvery; a small lead
// (under layerHysteresis) changes nothing; a forwarded layer that goes silent hands over to the
// best remaining one. The end-to-end version, with real packets and a viewer, is
// cmd/wisp TestSimulcastForwardsBestLayer.
func TestLayersChoose(t *testing.T) {
	var ls layers
	low := &layer{rid: "l", ssrc: 1}
	high := &layer{rid: "h", ssrc: 2}
	if ls.add(low) {
		t.Fatal("one layer reported as several")
	}
	if !ls.add(high) {
		t.Fatal("two layers not reported as several")
	}
	now := time.Unix(1000, 0)
	step := func(lowBytes, highBytes int) {
		now = now.Add(layerWindow)
		if lowBytes > 0 {
			low.received(lowBytes, now)
		}
		if highBytes > 0 {
			high.received(highBytes, now)
		}
	}

	if got := ls.forward(low, false); got != first {
		t.Fatalf("first packet of the first layer: %d, want first", got)
	}
	if got := ls.forward(high, true); got != skip {
		t.Fatalf("a packet of another layer before any choice: %d, want skip", got)
	}

	// high carries 10× the bits: it becomes the target and is asked for a keyframe.
	step(1000, 10000)
	if pli := ls.choose(now, layerWindow); pli != high.ssrc {
		t.Fatalf("choose: PLI to %d, want %d (the better layer)", pli, high.ssrc)
	}
	step(1000, 10000)
	if pli := ls.choose(now, layerWindow); pli != 0 {
		t.Fatalf("choose again within %v: PLI to %d, want none", layerPLIEvery, pli)
	}
	step(1000, 10000)
	if pli := ls.choose(now, layerWindow); pli != high.ssrc {
		t.Fatalf("choose after %v: PLI to %d, want %d again", layerPLIEvery, pli, high.ssrc)
	}
	if got := ls.forward(high, false); got != skip {
		t.Fatalf("target's delta frame: %d, want skip", got)
	}
	if got := ls.forward(low, false); got != keep {
		t.Fatalf("current layer while the target waits for a keyframe: %d, want keep", got)
	}
	if got := ls.forward(high, true); got != switched {
		t.Fatalf("target's keyframe: %d, want switched", got)
	}
	if got := ls.forward(low, true); got != skip {
		t.Fatalf("old layer after the switch: %d, want skip", got)
	}

	// low now carries a little more than high, under the hysteresis: nothing changes.
	step(12000, 10000)
	if pli := ls.choose(now, layerWindow); pli != 0 {
		t.Fatalf("a lead of 1.2×: PLI to %d, want none", pli)
	}
	if got := ls.forward(low, true); got != skip {
		t.Fatalf("a lead under the hysteresis must not switch: %d", got)
	}

	// high goes silent: low becomes the target although it carries less than high did.
	for i := 0; i < 3; i++ {
		step(1000, 0)
	}
	if pli := ls.choose(now, layerWindow); pli != low.ssrc {
		t.Fatalf("forwarded layer silent: PLI to %d, want %d", pli, low.ssrc)
	}
	if got := ls.forward(low, true); got != switched {
		t.Fatalf("remaining layer's keyframe: %d, want switched", got)
	}
}

// TestLayersWithoutRID: a second plain video track (no RID) never takes over from the first,
// whatever it carries; only simulcast layers are compared.
func TestLayersWithoutRID(t *testing.T) {
	var ls layers
	a, b := &layer{ssrc: 1}, &layer{ssrc: 2}
	ls.add(a)
	ls.add(b)
	now := time.Unix(1000, 0)
	if got := ls.forward(a, false); got != first {
		t.Fatalf("first packet: %d, want first", got)
	}
	now = now.Add(layerWindow)
	a.received(100, now)
	b.received(100000, now)
	if pli := ls.choose(now, layerWindow); pli != 0 {
		t.Fatalf("choose among tracks without RID: PLI to %d, want none", pli)
	}
	if got := ls.forward(b, true); got != skip {
		t.Fatalf("second track's keyframe: %d, want skip", got)
	}
}

// BenchmarkLayerPacket is the simulcast bookkeeping every publisher video packet pays in
// Publisher.read (single-layer publishers too): record its size and arrival, check for a
// keyframe start, ask the layer set what to do with it.
func BenchmarkLayerPacket(b *testing.B) {
	var ls layers
	l := &layer{rid: "h", ssrc: 1}
	ls.add(l)
	payload := make([]byte, 1200)
	payload[0] = 0x1c // FU-A, not a keyframe start
	b.ReportAllocs()
	for b.Loop() {
		l.received(len(payload), time.Now())
		if ls.forward(l, stream.KeyframeStart("video/h264", payload)) == skip {
			b.Fatal("the only layer skipped")
		}
	}
}
