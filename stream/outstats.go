package stream

import (
	"sync/atomic"
	"time"
)

// Drop reasons of an output, the keys of OutputInfo.Dropped.
const (
	// DropQueueFull: the output's fan-out worker was a whole queue behind its Feed, so the packet
	// was never handed to it (the viewer NACKs it or waits for the next keyframe).
	DropQueueFull = "queue_full"
	// DropOverwritten: the packet left the Feed's ring before the worker could copy it out.
	DropOverwritten = "overwritten"
	// DropWriteError: the viewer's connection refused the packet (closing, congested).
	DropWriteError = "write_error"
)

// outputCounters are an output's counters; every field only grows. Each packet offered to the
// output ends in exactly one of sent or a drop reason:
//
//	offered == sent + queueFull + overwritten + writeError
type outputCounters struct {
	offered, sent, resent, switches    atomic.Uint64
	padded                             atomic.Uint64 // bytes of probe padding (Pad)
	queueFull, overwritten, writeError atomic.Uint64
}

// OutputInfo is a snapshot of one viewer's output for the status API.
type OutputInfo struct {
	Kind string `json:"kind"`
	SSRC uint32 `json:"ssrc"`
	RID  string `json:"rid,omitempty"` // of the Feed followed now
	// Offered counts the packets of its Feeds the output was due to send; each ended as Sent or in
	// one of Dropped's reasons (every Drop* key is present), so Offered == Sent + ΣDropped.
	Offered  uint64            `json:"offered"`
	Sent     uint64            `json:"sent"`
	Dropped  map[string]uint64 `json:"dropped"`
	Resent   uint64            `json:"resent"`   // retransmitted in answer to the viewer's NACKs
	Switches uint64            `json:"switches"` // changes of Feed
}

// FirstSent is when the output sent its first packet (zero before): for video the first packet
// of a keyframe, as an output starts at one (the cached GOP's or the next), so the viewer's join
// time ends there.
func (o *Output) FirstSent() time.Time {
	if ns := o.firstSent.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Info returns a snapshot of the output's counters.
func (o *Output) Info() OutputInfo {
	info := OutputInfo{Kind: o.kind.String(), SSRC: o.ssrc,
		Offered: o.stats.offered.Load(), Sent: o.stats.sent.Load(), Resent: o.stats.resent.Load(),
		Switches: o.stats.switches.Load(),
		Dropped: map[string]uint64{
			DropQueueFull:   o.stats.queueFull.Load(),
			DropOverwritten: o.stats.overwritten.Load(),
			DropWriteError:  o.stats.writeError.Load(),
		}}
	if f := o.feed.Load(); f != nil {
		info.RID = f.cfg.RID
	}
	return info
}
