// Package datarelay mirrors a publisher's data-channel messages to every
// viewer data channel subscribed with the same label.
//
// A publisher's OnMessage callback runs on pion's SCTP read loop, so
// [Relay.Publish] never blocks: it copies the message once, snapshots the
// subscribers of its label under a lock, unlocks, and offers the copy to each
// subscriber's bounded queue without waiting. Each [Subscription] owns one
// goroutine that drains its queue into its [Sender] in order, except a
// [DirectSender] (a pion data channel, which only queues): the Relay's one
// goroutine sends to those, bounded by what each has buffered. A full queue
// (by message count or by bytes) drops the message for that subscriber only;
// every drop is counted by reason and summarized in the log on an interval,
// never per message.
//
// Map of the package:
//
//	relay.go         Relay, Config, Message, Sender: Publish, Subscribe, Close
//	subscription.go  Subscription: the bounded queue, its goroutine, Close
//	direct.go        DirectSender: the Relay's goroutine for senders that never wait;
//	                 Egress: each hand-off to many bracketed, so the socket can batch the records
//	stats.go         Stats, drop reasons, the periodic drop-summary goroutine
//	errors.go        sentinel errors ErrClosed, ErrTooLarge
//
// Lifetimes: New starts the summary goroutine, Relay.Close stops it. Subscribe
// starts the subscriber's goroutine, Subscription.Close (or Relay.Close)
// stops it; the first direct subscription starts the Relay's direct goroutine,
// Relay.Close stops it. Every Close waits for the goroutines it stops (and a
// direct subscription's Close for any Send to it in flight).
package datarelay
