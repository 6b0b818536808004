package layers

import (
	"math"
	"time"
)

// Delivery tuning (transport-cc evidence).
const (
	// deliveryRing is how many packets sent are remembered for their feedback: a few seconds of
	// media, or half a second of a probe's padding (feedback comes every 100 ms or so); a packet older than that is not judged.
	deliveryRing = 1024
	// deliveryBucket is the resolution of what feedback says; deliveryBuckets of them are kept.
	deliveryBucket  = 100 * time.Millisecond
	deliveryBuckets = 10
	// baseSlots one-second minima of the one-way delay are kept: its least is the path's delay
	// without a queue (the clocks' offset included).
	baseSlots = 10
	// standingQueue is the queuing delay that, as the least over standingWindow, shows a queue that
	// does not drain: the path is sent more than it carries. A keyframe burst or a stalled CPU
	// queues packets too, but drains within a few hundred milliseconds.
	standingQueue  = 50 * time.Millisecond
	standingWindow = 5 // buckets
	// risingQueue, as the least over risingWindow, shows a queue building: a probe stops adding.
	// standingEvidence is how many of those buckets must hold arrivals for a verdict on the queue
	// (feedback that resumes after a gap tells little).
	standingEvidence = 3
	risingQueue      = 40 * time.Millisecond
	risingWindow     = 3 // buckets
	// congestedLoss is the share of packets lost over the last second that shows congestion
	// without a queue (a policer, a small buffer); probeLoss over the last half second stops a probe.
	congestedLoss = 0.25
	probeLoss     = 0.05
)

// Ack is transport-cc feedback about one packet (draft-holmer-rmcat-transport-wide-cc-extensions):
// its transport-wide sequence number and, if it arrived, when, on the receiver's clock.
type Ack struct {
	Seq     uint16
	Arrived bool
	Arrival time.Duration // receiver's clock; only differences matter
}

// DeliverySignals is what transport-cc feedback says about one viewer's path now.
type DeliverySignals struct {
	// Feedback is false when no feedback arrived in the last second (the viewer negotiated no
	// transport-cc, or it stopped): the rest is then zero.
	Feedback bool
	// Delivered is what arrived over the last half second (the intervals of it feedback told about),
	// in bits per second.
	Delivered float64
	// Loss is the share of the packets judged over the last second that were lost.
	Loss float64
	// Queue is the least queuing delay over the last half second: 0 on a path that drains.
	Queue time.Duration
	// Congested: the path carries less than it is sent (a standing queue, or heavy loss).
	// Delivered is then its capacity.
	Congested bool
	// Overuse: a queue builds or packets are lost now; a probe must stop adding.
	Overuse bool
}

// Estimate returns the send-side estimate in bits per second the signals give: the capacity
// measured while congested, else unbounded (math.MaxFloat64: nothing limits the path that the
// feedback shows; Signals.Budget caps it by what was sent); 0 without feedback (no evidence).
func (s DeliverySignals) Estimate() float64 {
	switch {
	case !s.Feedback:
		return 0
	case s.Congested:
		return s.Delivered
	}
	return math.MaxFloat64
}

// Delivery reads transport-cc feedback into what one viewer's path carries: the rate delivered,
// the loss, and whether a queue stands (the least queuing delay over half a second: a keyframe
// burst or a CPU stall queues packets for a moment, a path sent more than it carries queues
// them for good). It replaces pion's GCC, whose delay-gradient detector without a pacer reads
// every keyframe burst as overuse and then cuts its estimate to 0.85 of what was received,
// below the layer the viewer receives (research/simulcast.md §4.1). What arrived is counted in
// 100 ms buckets of the receiver's clock, so the rate delivered does not depend on when feedback
// comes. Memory is constant: a ring of the packets sent and a second of buckets. It is not safe
// for concurrent use; its owner guards it.
type Delivery struct {
	sent [deliveryRing]sentPacket

	buckets [deliveryBuckets]deliveryBucketStats // ring by bucket index
	newest  int64                                // bucket of the newest arrival (Arrival/deliveryBucket)
	started bool                                 // an arrival was seen
	last    time.Time                            // the latest feedback, on the sender's clock

	base    [baseSlots]int64 // least one-way delay (ns) per second of the sender's clock, ring
	baseSec int64            // the second base[baseSec%baseSlots] is filling
}

type sentPacket struct {
	at     int64 // Unix ns
	size   int32
	seq    uint16
	ok     bool
	resend bool // a retransmission (a NACK answer)
}

type deliveryBucketStats struct {
	bytes       int64
	acked, lost int
	minQueue    int64 // ns, valid when acked > 0
}

// Sent records a packet sent at now with transport-wide sequence number seq, size bytes on the
// wire (RTP header included).
func (d *Delivery) Sent(now time.Time, seq uint16, size int) {
	d.sent[int(seq)%deliveryRing] = sentPacket{at: now.UnixNano(), size: int32(size), seq: seq, ok: true} //nolint:gosec // a packet's size
}

// Resent records a retransmission (a NACK answer) sent at now, as Sent does, except that its loss
// is not counted: a receiver drops a retransmission older than its SRTP replay window (pion's is
// 64 packets, two seconds of a low layer, and its player asks again for a lost packet as long as
// it is within 512), which says nothing about the path. One that arrives counts as delivered.
func (d *Delivery) Resent(now time.Time, seq uint16, size int) {
	d.sent[int(seq)%deliveryRing] = sentPacket{at: now.UnixNano(), size: int32(size), seq: seq, ok: true, resend: true} //nolint:gosec // a packet's size
}

// Feedback takes one feedback packet's acks, received at now. Packets not sent (or sent too long
// ago to be remembered) and packets judged before are ignored.
func (d *Delivery) Feedback(now time.Time, acks []Ack) {
	d.last = now
	d.rollBase(now.Unix())
	for _, a := range acks {
		p := &d.sent[int(a.Seq)%deliveryRing]
		if !p.ok || p.seq != a.Seq {
			continue
		}
		p.ok = false
		if !a.Arrived {
			if d.started && !p.resend {
				d.bucket(d.newest).lost++
			}
			continue
		}
		owd := int64(a.Arrival) - p.at
		slot := &d.base[(d.baseSec%baseSlots+baseSlots)%baseSlots]
		*slot = min(*slot, owd)
		q := max(owd-d.baseDelay(), 0)
		bi := int64(a.Arrival / deliveryBucket)
		switch {
		case !d.started || bi > d.newest+deliveryBuckets:
			d.buckets = [deliveryBuckets]deliveryBucketStats{}
			d.newest, d.started = bi, true
		case bi > d.newest:
			for i := d.newest + 1; i <= bi; i++ {
				*d.bucket(i) = deliveryBucketStats{}
			}
			d.newest = bi
		case bi <= d.newest-deliveryBuckets:
			continue // older than what is kept
		}
		b := d.bucket(bi)
		if b.acked == 0 || q < b.minQueue {
			b.minQueue = q
		}
		b.acked++
		b.bytes += int64(p.size)
	}
}

// bucket returns the bucket of index i (which may be negative: receivers' clocks are arbitrary).
func (d *Delivery) bucket(i int64) *deliveryBucketStats {
	return &d.buckets[(i%deliveryBuckets+deliveryBuckets)%deliveryBuckets]
}

// rollBase moves the one-way delay minima to the second sec, forgetting those too old.
func (d *Delivery) rollBase(sec int64) {
	if d.baseSec == 0 || sec-d.baseSec >= baseSlots {
		for i := range d.base {
			d.base[i] = math.MaxInt64
		}
		d.baseSec = sec
		return
	}
	for ; d.baseSec < sec; d.baseSec++ {
		d.base[((d.baseSec+1)%baseSlots+baseSlots)%baseSlots] = math.MaxInt64
	}
}

// baseDelay is the least one-way delay over the last baseSlots seconds.
func (d *Delivery) baseDelay() int64 {
	m := int64(math.MaxInt64)
	for _, v := range d.base {
		m = min(m, v)
	}
	return m
}

// Signals returns what the feedback of the last second says at now.
func (d *Delivery) Signals(now time.Time) DeliverySignals {
	if !d.started || now.Sub(d.last) > time.Second {
		return DeliverySignals{}
	}
	s := DeliverySignals{Feedback: true}
	var acked, lost, recentAcked, recentLost int
	var bytes int64
	standing, rising := int64(math.MaxInt64), int64(math.MaxInt64)
	withArrivals, spans := 0, 0
	for k := int64(0); k < deliveryBuckets; k++ {
		b := *d.bucket(d.newest - k)
		acked += b.acked
		lost += b.lost
		if k < standingWindow {
			recentAcked += b.acked
			recentLost += b.lost
			if b.acked > 0 {
				standing = min(standing, b.minQueue)
				withArrivals++
			}
		}
		if k >= 1 && k <= standingWindow && b.acked > 0 {
			// Complete buckets only (the newest is still filling), and only those feedback
			// told about: a feedback packet lost leaves its interval empty, not idle.
			bytes += b.bytes
			spans++
		}
		if k < risingWindow && b.acked > 0 {
			rising = min(rising, b.minQueue)
		}
	}
	if acked+lost > 0 {
		s.Loss = float64(lost) / float64(acked+lost)
	}
	if spans > 0 {
		s.Delivered = float64(bytes*8) / (float64(spans) * deliveryBucket.Seconds())
	}
	if standing != math.MaxInt64 && withArrivals >= standingEvidence {
		s.Queue = time.Duration(standing)
	}
	s.Congested = s.Queue >= standingQueue || s.Loss >= congestedLoss
	recentLoss := 0.0
	if recentAcked+recentLost > 0 {
		recentLoss = float64(recentLost) / float64(recentAcked+recentLost)
	}
	s.Overuse = s.Congested || (rising != math.MaxInt64 && time.Duration(rising) >= risingQueue) || recentLoss >= probeLoss
	return s
}
