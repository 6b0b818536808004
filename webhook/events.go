package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wisp-media/wisp/wish"
)

// Defaults of EventsConfig.
const (
	DefaultQueue    = 256
	DefaultAttempts = 4
	DefaultBackoff  = 500 * time.Millisecond // doubled after each failed attempt
	DefaultTimeout  = 5 * time.Second        // one delivery attempt
)

// EventsConfig configures Events.
type EventsConfig struct {
	URL      string
	Queue    int           // events waiting at most (default DefaultQueue); more are dropped
	Attempts int           // tries per event (default DefaultAttempts)
	Backoff  time.Duration // wait before the second try (default DefaultBackoff)
	Timeout  time.Duration // one try (default DefaultTimeout)
	Client   *http.Client  // default: one that follows no redirect
	Logger   *slog.Logger
}

// Events delivers wish.Events to the event webhook, in order, from one goroutine. Notify never
// blocks: events go to a bounded queue, and when it is full they are dropped and counted. An event
// is tried Attempts times (a 2xx answer delivers it) and then given up, logged.
type Events struct {
	// set at construction
	cfg  EventsConfig
	log  *slog.Logger
	ctx  context.Context // ends the sender's waits and tries
	stop context.CancelFunc
	done chan struct{} // closed when the sender has returned

	// guarded by mu
	mu      sync.Mutex
	queue   chan wish.Event // closed by Close
	closed  bool
	dropped int
}

// NewEvents starts the sender; Close stops it.
func NewEvents(cfg EventsConfig) *Events {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	e := &Events{cfg: cfg, log: log.With("side", "event-webhook"), ctx: ctx, stop: stop,
		done: make(chan struct{}), queue: make(chan wish.Event, cfg.Queue)}
	go e.run()
	return e
}

// Notify implements wish.Notifier: it queues ev without blocking, or drops it if the queue is
// full or Events is closed.
func (e *Events) Notify(ev wish.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	select {
	case e.queue <- ev:
	default:
		e.dropped++
	}
}

// Dropped returns how many events were dropped because the queue was full.
func (e *Events) Dropped() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropped
}

// Close stops taking events and delivers those queued until ctx ends, then abandons the rest and
// waits for the sender to return.
func (e *Events) Close(ctx context.Context) {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		e.stop()
		<-e.done
	}
	e.stop()
}

// run delivers queued events one by one until the queue is closed and empty, or ctx ends.
func (e *Events) run() {
	defer close(e.done)
	for ev := range e.queue {
		if e.ctx.Err() != nil {
			return
		}
		e.deliver(ev)
	}
}

// deliver tries one event up to Attempts times, doubling the wait between tries.
func (e *Events) deliver(ev wish.Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		e.log.Error("event not encoded", "err", err)
		return
	}
	wait := e.cfg.Backoff
	for try := 1; ; try++ {
		err = e.try(body)
		if err == nil {
			return
		}
		if try == e.cfg.Attempts {
			e.log.Warn("event not delivered", "type", ev.Type, "stream", ev.Stream, "tries", try, "err", err)
			return
		}
		select {
		case <-time.After(wait):
		case <-e.ctx.Done():
			return
		}
		wait *= 2
	}
}

func (e *Events) try(body []byte) error {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
	defer cancel()
	status, err := post(ctx, e.cfg.Client, e.cfg.URL, body)
	if err != nil {
		return err
	}
	if status < 200 || status >= 300 {
		return fmt.Errorf("status %d", status)
	}
	return nil
}
