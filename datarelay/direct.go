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
			for _, s := range it.to {
				s.deliver(it)
			}
			it.to = nil
		}
	}
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
// buffered. No lock is held during the Send.
func (s *Subscription) deliver(it *item) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	s.routed.Add(1)
	if int64(s.directSender.BufferedAmount())+it.size() > s.maxBytes {
		s.queueFull.Add(1)
		return
	}
	s.send(it)
}
