package datarelay

import (
	"sync"
	"sync/atomic"
)

// item is one queued message. Its data or text is shared by every
// subscriber it was offered to and is never written after Publish.
type item struct {
	data   []byte
	text   string
	isText bool

	to []*Subscription // the direct subscribers it goes to (post, fanOut)
}

// size is what the item counts against [Config.QueueBytes].
func (it *item) size() int64 {
	if it.isText {
		return int64(len(it.text))
	}
	return int64(len(it.data))
}

// Subscription is one viewer data channel receiving the messages of one
// label, through its own bounded queue and its own goroutine. Create it with
// [Relay.Subscribe]; its owner calls [Subscription.Close].
type Subscription struct {
	// Set at construction.
	relay  *Relay
	id     uint64
	label  string
	sender Sender
	// directSender is sender if it is a DirectSender (sent to by the Relay's goroutine; queue
	// and done are then unused and exited is closed at once), else nil.
	directSender DirectSender
	queue        chan *item    // bounded by Config.QueueMessages
	maxBytes     int64         // Config.QueueBytes
	done         chan struct{} // closed by Close: tells run to stop
	exited       chan struct{} // closed by run when it returns

	// Guarded by mu: offers are serialized with each other and with Close,
	// so nothing is queued once Close has marked the subscription closed.
	mu     sync.Mutex
	closed bool

	// Counted without a lock; see counts for what each one means.
	queuedBytes atomic.Int64 // raised by offer before queuing, lowered by run on dequeue
	routed      atomic.Uint64
	delivered   atomic.Uint64
	queueFull   atomic.Uint64
	sendErrors  atomic.Uint64
	closedDrops atomic.Uint64
	lastErr     atomic.Pointer[string] // text of the latest Send error, for the summary log

	closeOnce sync.Once
}

func newSubscription(r *Relay, id uint64, label string, sender Sender) *Subscription {
	if d, ok := sender.(DirectSender); ok {
		return &Subscription{relay: r, id: id, label: label, sender: sender, directSender: d,
			maxBytes: int64(r.cfg.QueueBytes), done: make(chan struct{}), exited: make(chan struct{})}
	}
	return &Subscription{
		relay:    r,
		id:       id,
		label:    label,
		sender:   sender,
		queue:    make(chan *item, r.cfg.QueueMessages),
		maxBytes: int64(r.cfg.QueueBytes),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
}

// offer queues it without blocking, or counts it as dropped if the queue is
// full by message count or by bytes. Called by Publish with no relay lock
// held.
func (s *Subscription) offer(it *item) {
	n := it.size()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // closed after Publish took its snapshot: not routed here
	}
	s.routed.Add(1)
	// Only offers raise queuedBytes and they are serialized by mu, so the
	// check cannot be overtaken; run may only lower it meanwhile.
	if s.queuedBytes.Load()+n > s.maxBytes {
		s.queueFull.Add(1)
		return
	}
	s.queuedBytes.Add(n) // before the send, so run never lowers it below zero
	select {
	case s.queue <- it:
	default:
		s.queuedBytes.Add(-n)
		s.queueFull.Add(1)
	}
}

// run sends queued items in order until Close. It is the only caller of the
// Sender.
func (s *Subscription) run() {
	defer close(s.exited)
	for {
		select {
		case <-s.done:
			return
		case it := <-s.queue:
			s.queuedBytes.Add(-it.size())
			select {
			case <-s.done: // both were ready: closing wins, the item is dropped
				s.closedDrops.Add(1)
				return
			default:
			}
			s.send(it)
		}
	}
}

// send delivers one item and reports whether the Sender took it. An error is
// counted and the subscription goes on: the channel may not be open yet, and
// closing it is the owner's call.
func (s *Subscription) send(it *item) bool {
	var err error
	if it.isText {
		err = s.sender.SendText(it.text)
	} else {
		err = s.sender.Send(it.data)
	}
	if err != nil {
		msg := err.Error()
		s.lastErr.Store(&msg)
		s.sendErrors.Add(1)
		return false
	}
	s.delivered.Add(1)
	return true
}

// Close stops the subscription: nothing more is queued, the goroutine is told
// to stop and Close waits for it, including a Send in flight; whatever is
// still queued is dropped and counted as [DropClosed]. Close is idempotent
// and safe to call concurrently with [Relay.Close].
func (s *Subscription) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()

		if s.directSender != nil {
			s.relay.quiesce(s)
		}
		close(s.done)
		<-s.exited

		for drained := false; !drained; {
			select {
			case it := <-s.queue:
				s.queuedBytes.Add(-it.size())
				s.closedDrops.Add(1)
			default:
				drained = true
			}
		}
		s.relay.remove(s)
		s.logClosed()
	})
}

// counts reads the subscription's counters.
func (s *Subscription) counts() counts {
	return counts{
		routed:      s.routed.Load(),
		delivered:   s.delivered.Load(),
		queueFull:   s.queueFull.Load(),
		sendErrors:  s.sendErrors.Load(),
		closedDrops: s.closedDrops.Load(),
	}
}
