package datarelay

// Direct subscriptions. A subscription with its own goroutine costs a goroutine hand-off per
// message per viewer (the queue, the wake-up) before pion's SCTP association, which has its own
// writer goroutine anyway, takes the message. A Sender that only queues, as pion's data channel
// does (its Send hands the message to the association's writer and never waits for the network),
// needs no goroutine of its own: such a DirectSender is subscribed directly, and one goroutine of
// the Relay (started with the first direct subscription, stopped by Relay.Close) sends each
// message to every direct subscriber of its label in turn, in the order published. Publish still
// never blocks: it offers the message to that goroutine's bounded queue (room for
// Config.QueueMessages messages and Config.QueueBytes bytes, to a label and to AllLabels each)
// and, if it is full, the message is dropped for the direct
// subscribers (counted per subscriber as DropQueueFull). Each direct subscriber is bounded by
// what its Sender has buffered: a message that would take BufferedAmount over Config.QueueBytes
// is dropped for it alone (DropQueueFull), so a viewer that stops reading holds at most that
// much in its SCTP association.
//
// A direct subscription counts a message as routed when the goroutine comes to it; one still
// waiting in the queue when the subscription closes was never routed to it.

// DirectSender is a Sender whose Send and SendText never wait for the network, only queue, and
// which reports how many bytes it has queued and not yet sent (*webrtc.DataChannel without
// blocking writes). Subscribe sends to it from the Relay's goroutine instead of one of its own.
type DirectSender interface {
	Sender
	BufferedAmount() uint64
}

// post offers it to the direct subscribers subs through the Relay's goroutine, or drops it for
// them when that goroutine's queue is full. fan is the queue (read under r.mu by Publish).
func (r *Relay) post(fan chan *item, it *item, subs []*Subscription) {
	n := it.size()
	if r.fanBytes.Add(n) <= 2*int64(r.cfg.QueueBytes) {
		it.to = subs
		select {
		case fan <- it:
			return
		default:
		}
	}
	r.fanBytes.Add(-n)
	for _, s := range subs {
		s.missed()
	}
}

// Egress is the seam between the Relay's goroutine and the socket the viewers' data channels
// send by. Handing one message to n viewers makes n SCTP associations each write a DTLS record,
// on their own goroutines, within a short time of each other; the socket may collect those
// records and send them together (sendmmsg) if it knows how many to expect. The Relay's goroutine
// brackets each hand-off to two or more direct subscribers with BeginRelay and EndRelay.
// rtc.Media implements it; a Relay without one (Config.Egress nil) lets each record leave alone.
type Egress interface {
	// BeginRelay says one message is about to be handed to n data channels.
	BeginRelay(n int)
	// EndRelay says the hand-off is done: expected of the n channels took the message with
	// little enough unacknowledged before it that their association writes its record at once.
	EndRelay(n, expected int)
}

// expectBytes is the most a data channel may have unacknowledged, the message included, for its
// record to be expected at once: below one SCTP packet, the smallest congestion window, so its
// association has room to send it.
const expectBytes = 1024

// fanOut is the Relay's goroutine for direct subscriptions: it sends each queued message to its
// subscribers in turn, and lets a closing subscription know (ctl) when no Send to it is in
// flight. It returns on Relay.Close.
func (r *Relay) fanOut(fan chan *item, ctl chan *Subscription, exited chan struct{}) {
	defer close(exited)
	for {
		select {
		case <-r.done:
			return
		case <-ctl: // a subscription is closing: receiving it is the point between two Sends
		case it := <-fan:
			r.fanBytes.Add(-it.size())
			r.handOff(it)
			it.to = nil
		}
	}
}

// handOff sends it to its direct subscribers, bracketed by the Egress when there are two or more.
func (r *Relay) handOff(it *item) {
	eg := r.cfg.Egress
	if eg == nil || len(it.to) < 2 {
		for _, s := range it.to {
			s.deliver(it)
		}
		return
	}
	eg.BeginRelay(len(it.to))
	expected := 0
	for _, s := range it.to {
		if s.deliver(it) {
			expected++
		}
	}
	eg.EndRelay(len(it.to), expected)
}

// quiesce returns once the Relay's goroutine is sending nothing to s, which is already marked
// closed: after it, nothing more is counted for s.
func (r *Relay) quiesce(s *Subscription) {
	r.mu.Lock()
	ctl, exited := r.ctl, r.fanExited
	r.mu.Unlock()
	if ctl == nil {
		return
	}
	select {
	case ctl <- s:
	case <-exited:
	}
}

// missed counts a message the Relay's queue had no room for, unless s is closed.
func (s *Subscription) missed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.routed.Add(1)
	s.queueFull.Add(1)
}

// deliver sends it to s on the Relay's goroutine, unless s is closed or its Sender has too much
// buffered. It reports whether s's association is expected to write the message at once: the
// Send succeeded and s had less than expectBytes unacknowledged, the message included. No lock
// is held during the Send.
func (s *Subscription) deliver(it *item) (expected bool) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return false
	}
	s.routed.Add(1)
	buffered := int64(s.directSender.BufferedAmount()) + it.size()
	if buffered > s.maxBytes {
		s.queueFull.Add(1)
		return false
	}
	return s.send(it) && buffered <= expectBytes
}
