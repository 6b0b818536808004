package client

import (
	"time"

	"github.com/pion/rtp"
)

// reorderWindow is how many sequence numbers ahead of the next expected one a packet may arrive
// and still wait for those before it; reorderWait is how long the oldest waiting packet waits
// for the gap before it to fill. A player's jitter buffer does the same: a retransmission (RTX,
// which pion hands to the track with the original sequence number) or a probe's copy of a
// packet may arrive before the original, and the original then arrives late.
const (
	reorderWindow = 256
	reorderWait   = 50 * time.Millisecond
)

// reorder puts a track's packets back in sequence order before the assembler: a packet ahead of
// the next expected one waits (at most reorderWindow ahead, at most reorderWait) for the ones
// before it; a packet behind it (a duplicate, or one given up on) is dropped. Memory is bounded
// by the window. Not safe for concurrent use: the track's read loop owns it.
type reorder struct {
	have    bool
	next    uint16                     // the sequence number expected next
	slots   [reorderWindow]*rtp.Packet // waiting packets, by sequence number modulo the window
	arrived [reorderWindow]time.Time   // when each waiting packet arrived
	waiting int                        // packets in slots
}

// push takes the packet p that arrived at now and calls emit with every packet that is now in
// order (p among them, or none), oldest first.
func (r *reorder) push(p *rtp.Packet, now time.Time, emit func(*rtp.Packet)) {
	if !r.have {
		r.have, r.next = true, p.SequenceNumber
	}
	d := p.SequenceNumber - r.next
	switch {
	case d >= 0x8000:
		return // behind: a duplicate, or a packet already given up on
	case d >= reorderWindow:
		// Far ahead (a long loss): what waits goes in order, with its gaps, then p.
		r.skipTo(p.SequenceNumber, emit)
	}
	i := p.SequenceNumber % reorderWindow
	if r.slots[i] != nil {
		return // a duplicate of a waiting packet (every waiting one is within the window)
	}
	r.slots[i], r.arrived[i] = p, now
	r.waiting++
	r.drain(emit)
	// The oldest waiting packet has waited long enough: give up on the gap before it.
	for r.waiting > 0 {
		oldest, ok := r.oldest()
		if !ok || now.Sub(r.arrived[oldest%reorderWindow]) < reorderWait {
			break
		}
		r.next = oldest
		r.drain(emit)
	}
}

// drain emits the waiting packets from next on while there is no gap.
func (r *reorder) drain(emit func(*rtp.Packet)) {
	for {
		i := r.next % reorderWindow
		p := r.slots[i]
		if p == nil || p.SequenceNumber != r.next {
			return
		}
		r.slots[i] = nil
		r.waiting--
		r.next++
		emit(p)
	}
}

// oldest returns the lowest sequence number waiting.
func (r *reorder) oldest() (uint16, bool) {
	for k := uint16(1); k < reorderWindow; k++ {
		if p := r.slots[(r.next+k)%reorderWindow]; p != nil && p.SequenceNumber == r.next+k {
			return r.next + k, true
		}
	}
	return 0, false
}

// skipTo emits every waiting packet in order (gaps and all) and makes seq the next expected one.
func (r *reorder) skipTo(seq uint16, emit func(*rtp.Packet)) {
	for r.waiting > 0 {
		oldest, ok := r.oldest()
		if !ok {
			break
		}
		r.next = oldest
		r.drain(emit)
	}
	r.slots = [reorderWindow]*rtp.Packet{}
	r.waiting = 0
	r.next = seq
}
