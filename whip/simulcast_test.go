package whip

import (
	"sync/atomic"
	"testing"
	"time"
)

// fakeKeys is a layer's Feed as far as the chooser sees it: a keyframe count.
type fakeKeys struct{ n atomic.Uint64 }

func (f *fakeKeys) Keyframes() uint64 { return f.n.Load() }

// TestLayersChoose walks a two-layer set through the chooser's rules: the first layer to arrive
// is followed at once; a layer carrying more bits becomes the followed one and is asked for a
// keyframe at most once per layerPLIEvery until one comes (viewers' outputs switch only at that
// keyframe: stream TestOutputSwitchAtKeyframe); a small lead (under layerHysteresis) changes
// nothing; a followed layer that goes silent hands over to the best remaining one. The end-to-end
// version, with real packets and a viewer, is cmd/wisp TestSimulcastForwardsBestLayer.
func TestLayersChoose(t *testing.T) {
	var ls layers
	lowKeys, highKeys := &fakeKeys{}, &fakeKeys{}
	low := &layer{rid: "l", ssrc: 1, keys: lowKeys}
	high := &layer{rid: "h", ssrc: 2, keys: highKeys}
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

	if !ls.arrived(low) {
		t.Fatal("first packet of the first layer: not followed at once")
	}
	if ls.arrived(high) {
		t.Fatal("a second layer's first packet before any choice was followed")
	}

	// high carries 10× the bits: viewers follow it from now on, and it is asked for a keyframe.
	step(1000, 10000)
	if next, pli := ls.choose(now, layerWindow); next != high || pli != high.ssrc {
		t.Fatalf("choose: follow %v, PLI to %d; want the better layer and a PLI to %d", next, pli, high.ssrc)
	}
	step(1000, 10000)
	if next, pli := ls.choose(now, layerWindow); next != nil || pli != 0 {
		t.Fatalf("choose again within %v: follow %v, PLI to %d; want nothing", layerPLIEvery, next, pli)
	}
	step(1000, 10000)
	if next, pli := ls.choose(now, layerWindow); next != nil || pli != high.ssrc {
		t.Fatalf("choose after %v without a keyframe: follow %v, PLI to %d; want a PLI to %d again", layerPLIEvery, next, pli, high.ssrc)
	}
	highKeys.n.Add(1) // the keyframe the viewers switch at
	step(1000, 10000)
	step(1000, 10000)
	if next, pli := ls.choose(now, layerWindow); next != nil || pli != 0 {
		t.Fatalf("choose after the keyframe: follow %v, PLI to %d; want nothing", next, pli)
	}

	// low now carries a little more than high, under the hysteresis: nothing changes.
	step(12000, 10000)
	if next, pli := ls.choose(now, layerWindow); next != nil || pli != 0 {
		t.Fatalf("a lead of 1.2×: follow %v, PLI to %d; want nothing", next, pli)
	}

	// high goes silent: low is followed although it carries less than high did.
	for i := 0; i < 3; i++ {
		step(1000, 0)
	}
	if next, pli := ls.choose(now, layerWindow); next != low || pli != low.ssrc {
		t.Fatalf("followed layer silent: follow %v, PLI to %d; want the remaining layer and a PLI to %d", next, pli, low.ssrc)
	}
}

// TestLayersWithoutRID: a second plain video track (no RID) never takes over from the first,
// whatever it carries; only simulcast layers are compared.
func TestLayersWithoutRID(t *testing.T) {
	var ls layers
	a, b := &layer{ssrc: 1, keys: &fakeKeys{}}, &layer{ssrc: 2, keys: &fakeKeys{}}
	ls.add(a)
	ls.add(b)
	now := time.Unix(1000, 0)
	if !ls.arrived(a) {
		t.Fatal("first packet: not followed")
	}
	now = now.Add(layerWindow)
	a.received(100, now)
	b.received(100000, now)
	if next, pli := ls.choose(now, layerWindow); next != nil || pli != 0 {
		t.Fatalf("choose among tracks without RID: follow %v, PLI to %d; want nothing", next, pli)
	}
}

// BenchmarkLayerPacket is the simulcast bookkeeping every publisher video packet pays in
// Publisher.read (single-layer publishers too): record its size and arrival. Which layer viewers
// follow is decided every layerWindow, not per packet.
func BenchmarkLayerPacket(b *testing.B) {
	l := &layer{rid: "h", ssrc: 1}
	b.ReportAllocs()
	for b.Loop() {
		l.received(1200, time.Now())
	}
}

// TestLayerNewer: only sequence numbers past the newest count as new media (across the 16-bit
// wrap); copies and late repairs do not.
func TestLayerNewer(t *testing.T) {
	var l layer
	for i, c := range []struct {
		seq  uint16
		want bool
	}{{65534, true}, {65535, true}, {65535, false}, {0, true}, {65533, false}, {1, true}, {0, false}, {5, true}} {
		if got := l.newer(c.seq); got != c.want {
			t.Fatalf("step %d: newer(%d) = %v, want %v", i, c.seq, got, c.want)
		}
	}
}
