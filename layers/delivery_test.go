package layers

import (
	"math"
	"testing"
	"time"
)

// link is a simulated bottleneck, a tbf-like queue: rate bits per second, at most limit of
// queuing delay (a packet that would wait longer is dropped), a fixed propagation delay, and a
// receiver clock offset from the sender's.
type link struct {
	rate   float64
	limit  time.Duration
	free   time.Time // when the link has sent everything queued
	offset time.Duration
}

// send returns when a packet of size bytes sent at t arrives on the receiver's clock, or false if
// it is dropped.
func (l *link) send(t time.Time, size int) (time.Duration, bool) {
	start := t
	if l.free.After(t) {
		start = l.free
	}
	if start.Sub(t) > l.limit {
		return 0, false
	}
	l.free = start.Add(time.Duration(float64(size*8) / l.rate * float64(time.Second)))
	return time.Duration(l.free.UnixNano()) + 5*time.Millisecond + l.offset, true
}

// sim sends traffic through a link into a Delivery, with feedback every 100 ms about what has
// arrived (and what was dropped) by then.
type sim struct {
	d       Delivery
	l       link
	now     time.Time
	seq     uint16
	pending []Ack
	due     []time.Duration // arrival on the sender's clock, per pending ack
	nextFB  time.Time
}

// run sends at rate bits per second for d in 1200-byte packets; burst, if not 0, is sent at once
// every second on top (a keyframe).
func (s *sim) run(d time.Duration, rate float64, burst int) {
	const size = 1200
	gap := time.Duration(float64(size*8) / rate * float64(time.Second))
	end := s.now.Add(d)
	lastBurst := s.now
	for s.now.Before(end) {
		n := 1
		if burst > 0 && s.now.Sub(lastBurst) >= time.Second {
			n += burst / size
			lastBurst = s.now
		}
		for range n {
			s.seq++
			s.d.Sent(s.now, s.seq, size)
			at, ok := s.l.send(s.now, size)
			a := Ack{Seq: s.seq, Arrived: ok, Arrival: at}
			due := time.Duration(s.now.UnixNano()) + 5*time.Millisecond
			if ok {
				due = at - s.l.offset
			}
			s.pending, s.due = append(s.pending, a), append(s.due, due)
		}
		s.now = s.now.Add(gap)
		if !s.now.Before(s.nextFB) {
			var acks []Ack
			k := 0
			for k < len(s.pending) && s.due[k] <= time.Duration(s.now.UnixNano()) {
				acks = append(acks, s.pending[k])
				k++
			}
			s.pending, s.due = s.pending[k:], s.due[k:]
			s.d.Feedback(s.now, acks)
			s.nextFB = s.now.Add(100 * time.Millisecond)
		}
	}
}

// TestDelivery: transport-cc feedback through a simulated bottleneck. Sent below its rate, the path
// is clean and delivers what is sent; a keyframe burst queues packets for a moment but is not
// congestion; sent above its rate, a queue stands and the path is congested, delivering its rate;
// heavy loss without a queue is congestion too; a second without feedback is no evidence.
func TestDelivery(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	newSim := func(rate float64, limit time.Duration) *sim {
		return &sim{l: link{rate: rate, limit: limit, offset: -3 * time.Hour}, now: t0}
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 0.1*want }

	s := newSim(1.6e6, 300*time.Millisecond)
	if got := s.d.Signals(s.now); got.Feedback || got.Estimate() != 0 {
		t.Fatalf("before feedback: %+v", got)
	}
	s.run(3*time.Second, 850_000, 0)
	got := s.d.Signals(s.now)
	if !got.Feedback || got.Congested || got.Overuse || !near(got.Delivered, 850_000) || got.Loss != 0 {
		t.Fatalf("0.85 Mbit/s through 1.6: %+v, want clean, delivering 0.85", got)
	}
	if got.Estimate() != math.MaxFloat64 {
		t.Fatalf("clean path: estimate %v, want unbounded", got.Estimate())
	}

	// A 24 kB keyframe every second: 120 ms of queue at 1.6 Mbit/s that drains.
	for range 6 {
		s.run(500*time.Millisecond, 850_000, 24_000)
		if got := s.d.Signals(s.now); got.Congested {
			t.Fatalf("keyframe bursts read as congestion: %+v", got)
		}
	}

	// 2.5 Mbit/s into 1.6: a standing queue within a second, delivering 1.6.
	s.run(1500*time.Millisecond, 2.5e6, 0)
	got = s.d.Signals(s.now)
	if !got.Congested || !got.Overuse || !near(got.Delivered, 1.6e6) || got.Queue < standingQueue {
		t.Fatalf("2.5 Mbit/s into 1.6: %+v, want congested, delivering 1.6", got)
	}
	if got.Estimate() != got.Delivered {
		t.Fatalf("congested: estimate %v, want the delivered %v", got.Estimate(), got.Delivered)
	}

	// Heavy loss without a queue (a policer): congested.
	s = newSim(600_000, 0)
	s.run(2*time.Second, 1.2e6, 0)
	if got := s.d.Signals(s.now); !got.Congested || got.Loss < 0.4 {
		t.Fatalf("half lost: %+v, want congested", got)
	}

	// Retransmissions a receiver drops (older than its replay window) are no loss of the path.
	s = newSim(1.6e6, 300*time.Millisecond)
	s.run(2*time.Second, 850_000, 0)
	for range 20 {
		s.seq++
		s.d.Resent(s.now, s.seq, 1200)
		s.d.Feedback(s.now, []Ack{{Seq: s.seq}})
	}
	if got := s.d.Signals(s.now); got.Loss != 0 || got.Congested || got.Overuse {
		t.Fatalf("lost retransmissions: %+v, want a clean path", got)
	}

	// Feedback stops: no evidence a second later.
	if got := s.d.Signals(s.now.Add(1100 * time.Millisecond)); got.Feedback {
		t.Fatalf("a second without feedback: %+v", got)
	}
}
