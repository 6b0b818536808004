package datarelay

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by [New] to zero or negative [Config] fields.
const (
	DefaultQueueMessages = 256
	DefaultQueueBytes    = 1 << 20
	DefaultMaxMessage    = 64 << 10
	DefaultSummaryEvery  = 10 * time.Second
)

// Sender is the seam to a viewer's data channel; *webrtc.DataChannel
// satisfies it. One message's data may be shared by several subscribers, so
// Send must not modify data, nor keep it after returning (pion copies it).
type Sender interface {
	Send(data []byte) error
	SendText(text string) error
}

// Message is one data-channel message. Label selects the subscribers; Text
// marks a text message, delivered with [Sender.SendText] instead of
// [Sender.Send].
type Message struct {
	Label string
	Data  []byte
	Text  bool
}

// Config bounds a [Relay]. Zero or negative fields take the Default values.
type Config struct {
	// QueueMessages is each subscriber's queue length in messages.
	QueueMessages int
	// QueueBytes caps the bytes waiting in each subscriber's queue; a message
	// that would exceed it is dropped as [DropQueueFull]. It is raised to
	// MaxMessage if smaller, so any accepted message fits an empty queue.
	QueueBytes int
	// MaxMessage is the largest message Publish accepts.
	MaxMessage int
	// Logger receives drop summaries; nil discards them.
	Logger *slog.Logger
	// SummaryEvery is the interval at which drop summaries are logged, at
	// most once per interval and only when something was dropped.
	SummaryEvery time.Duration
	// Egress, if set, is told when the Relay's goroutine hands a message to
	// two or more direct subscribers, so the socket can send their records
	// together (see [Egress]). Nil lets each record leave on its own.
	Egress Egress
}

// withDefaults returns c with every unset field filled in.
func (c Config) withDefaults() Config {
	if c.QueueMessages <= 0 {
		c.QueueMessages = DefaultQueueMessages
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	c.QueueBytes = max(c.QueueBytes, c.MaxMessage)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SummaryEvery <= 0 {
		c.SummaryEvery = DefaultSummaryEvery
	}
	return c
}

// Relay fans each published message out to the subscribers of its label.
// Its methods are safe for concurrent use. Create it with [New] and release
// it with [Relay.Close].
type Relay struct {
	// Set at construction.
	cfg  Config
	log  *slog.Logger
	done chan struct{} // closed by Close: stops the summary goroutine
	wg   sync.WaitGroup

	// Counted without a lock.
	published atomic.Uint64
	tooLarge  atomic.Uint64
	nextID    atomic.Uint64
	fanBytes  atomic.Int64 // bytes waiting in fan

	// Guarded by mu.
	mu      sync.Mutex
	closed  bool
	byLabel map[string][]*Subscription // with their own goroutine; copy-on-write: a slice is never modified once stored
	direct  map[string][]*Subscription // DirectSenders, sent to by fanOut; copy-on-write too
	retired counts                     // totals of subscriptions already closed

	// Guarded by mu; made with the first direct subscription, when fanOut starts.
	fan       chan *item         // messages for direct subscribers, bounded by 2 × Config.QueueMessages
	ctl       chan *Subscription // closing direct subscriptions (see quiesce)
	fanExited chan struct{}      // closed when fanOut returns

	closeOnce sync.Once
}

// New returns a Relay configured by cfg and starts its drop-summary
// goroutine; [Relay.Close] stops it.
func New(cfg Config) *Relay {
	cfg = cfg.withDefaults()
	r := &Relay{
		cfg:     cfg,
		log:     cfg.Logger,
		done:    make(chan struct{}),
		byLabel: make(map[string][]*Subscription),
		direct:  make(map[string][]*Subscription),
	}
	r.wg.Go(r.summarize)
	return r
}

// Publish offers m to every subscriber of m.Label and returns without
// waiting for any of them: it is safe to call from a pion OnMessage callback.
// It copies m.Data, so the caller may reuse the buffer at once. A subscriber
// whose queue is full misses the message (counted as [DropQueueFull]); the
// others still get it. Publish returns an error wrapping [ErrTooLarge] if
// m.Data exceeds [Config.MaxMessage], and one wrapping [ErrClosed] after
// [Relay.Close].
func (r *Relay) Publish(m Message) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return fmt.Errorf("publish on %q: %w", m.Label, ErrClosed)
	}
	subs := r.byLabel[m.Label] // copy-on-write, so holding the slice is a snapshot
	all := r.byLabel[AllLabels]
	dsubs, dall, fan := r.direct[m.Label], r.direct[AllLabels], r.fan
	r.mu.Unlock()

	if len(m.Data) > r.cfg.MaxMessage {
		r.tooLarge.Add(1)
		return fmt.Errorf("publish on %q: %d bytes, max %d: %w", m.Label, len(m.Data), r.cfg.MaxMessage, ErrTooLarge)
	}
	r.published.Add(1)
	if len(all) > 0 || len(dall) > 0 {
		framed := &item{data: Frame(m)}
		for _, s := range all {
			s.offer(framed)
		}
		if len(dall) > 0 {
			r.post(fan, &item{data: framed.data}, dall) // its own item: post sets its recipients
		}
	}
	if len(subs) == 0 && len(dsubs) == 0 {
		return nil
	}
	// One copy shared by all subscribers: nobody writes to it after this. Queues hold pointers
	// to it, so an idle queue of Config.QueueMessages slots costs 8 bytes a slot.
	it := &item{isText: m.Text}
	if m.Text {
		it.text = string(m.Data)
	} else {
		it.data = bytes.Clone(m.Data)
	}
	for _, s := range subs {
		s.offer(it)
	}
	if len(dsubs) > 0 {
		r.post(fan, &item{data: it.data, text: it.text, isText: it.isText}, dsubs)
	}
	return nil
}

// Subscribe starts mirroring messages labelled label to sender, from this
// moment on, and returns the subscription; its owner must call
// [Subscription.Close]. A [DirectSender] is sent to by the Relay's goroutine,
// any other Sender by a goroutine of the subscription's own. After
// [Relay.Close] it returns an already-closed subscription that never sends.
func (r *Relay) Subscribe(label string, sender Sender) *Subscription {
	s := newSubscription(r, r.nextID.Add(1), label, sender)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		s.closed = true // never shared, so no lock needed yet
		close(s.exited)
		return s
	}
	if s.directSender != nil {
		if r.fan == nil {
			// Room for QueueMessages messages to a label and to AllLabels (two items each).
			r.fan, r.ctl, r.fanExited = make(chan *item, 2*r.cfg.QueueMessages), make(chan *Subscription), make(chan struct{})
			fan, ctl, exited := r.fan, r.ctl, r.fanExited
			r.wg.Go(func() { r.fanOut(fan, ctl, exited) })
		}
		close(s.exited) // no goroutine of its own
		r.direct[label] = append(slices.Clip(r.direct[label]), s)
		r.mu.Unlock()
		return s
	}
	// Start it before linking it, under the lock, so Relay.Close always finds a
	// running goroutine to wait for.
	go s.run()
	r.byLabel[label] = append(slices.Clip(r.byLabel[label]), s)
	r.mu.Unlock()
	return s
}

// remove unlinks s and folds its final counts into the relay's totals, in one
// step so that Stats never sees them twice or not at all.
func (r *Relay) remove(s *Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byLabel
	if s.directSender != nil {
		m = r.direct
	}
	subs := m[s.label]
	i := slices.Index(subs, s)
	if i < 0 {
		return
	}
	if len(subs) == 1 {
		delete(m, s.label)
	} else {
		m[s.label] = slices.Delete(slices.Clone(subs), i, i+1)
	}
	r.retired.add(s.counts())
}

// subscriptions returns every open subscription. Caller holds mu.
func (r *Relay) subscriptions() []*Subscription {
	var subs []*Subscription
	for _, l := range r.byLabel {
		subs = append(subs, l...)
	}
	for _, l := range r.direct {
		subs = append(subs, l...)
	}
	return subs
}

// Close closes every subscription, waiting for their goroutines (and so for
// any Send in flight), then stops the summary goroutine and waits for it.
// Later Publish calls return [ErrClosed]. Close is idempotent. A Sender that
// never returns would hold Close up: close data channels whose peer is gone
// first (pion's Send then fails fast).
func (r *Relay) Close() {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		subs := r.subscriptions()
		r.mu.Unlock()

		for _, s := range subs {
			s.Close()
		}
		close(r.done)
		r.wg.Wait()
	})
}
