package client

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// pushAll pushes packets with these sequence numbers at the given times and returns what came out.
func pushAll(r *reorder, at []time.Duration, seqs ...uint16) []uint16 {
	var out []uint16
	t0 := time.Unix(0, 0)
	for i, s := range seqs {
		now := t0
		if i < len(at) {
			now = t0.Add(at[i])
		}
		r.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: s}}, now, func(p *rtp.Packet) {
			out = append(out, p.SequenceNumber)
		})
	}
	return out
}

func TestReorderInOrder(t *testing.T) {
	var r reorder
	if got := pushAll(&r, nil, 65534, 65535, 0, 1); !slices.Equal(got, []uint16{65534, 65535, 0, 1}) {
		t.Fatalf("got %v", got)
	}
}

// The failure the isolation test met: a keyframe's first packet, then a probe's RTX copies of the
// rest newest first (pion hands them to the track as the originals), then the originals.
func TestReorderCopiesBeforeOriginals(t *testing.T) {
	var r reorder
	seqs := []uint16{100}
	for s := uint16(164); s > 100; s-- {
		seqs = append(seqs, s)
	}
	for s := uint16(101); s <= 164; s++ {
		seqs = append(seqs, s) // the originals: late duplicates now
	}
	seqs = append(seqs, 165)
	got := pushAll(&r, nil, seqs...)
	var want []uint16
	for s := uint16(100); s <= 165; s++ {
		want = append(want, s)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// A packet never recovered: the ones after it wait reorderWait, then go on (the assembler sees
// the gap); the lost one arriving later is dropped.
func TestReorderGivesUpOnLoss(t *testing.T) {
	var r reorder
	ms := time.Millisecond
	got := pushAll(&r, []time.Duration{0, ms, 2 * ms, 3 * ms, reorderWait + 2*ms, reorderWait + 3*ms}, 10, 12, 13, 14, 15, 11)
	if want := []uint16{10, 12, 13, 14, 15}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if r.waiting != 0 {
		t.Fatalf("%d still waiting", r.waiting)
	}
}

// A jump beyond the window (a long loss, or a new sequence line) flushes what waits in order.
func TestReorderFarAhead(t *testing.T) {
	var r reorder
	got := pushAll(&r, nil, 1, 3, 4, 1000, 1001)
	if want := []uint16{1, 3, 4, 1000, 1001}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
