package wish

import "time"

// The types of Event.
const (
	EventStarted = "stream.started" // a publisher's session is up on the stream
	EventStopped = "stream.stopped" // that session ended (DELETE, failure, replacement, shutdown)
)

// Event is one lifecycle event told to the event webhook.
type Event struct {
	Type    string    `json:"type"`
	Stream  string    `json:"stream"`
	Session string    `json:"session"`
	Time    time.Time `json:"time"`
}

// Notifier hears of events. Notify must never block (the event webhook queues, bounded).
type Notifier interface {
	Notify(Event)
}
