package datarelay

import (
	"context"
	"log/slog"
	"time"
)

// Drop reasons, the keys of [Stats.Dropped].
const (
	// DropQueueFull: a subscriber's queue was full by message count or by
	// bytes; only that subscriber missed the message.
	DropQueueFull = "queue_full"
	// DropTooLarge: Publish refused a message over Config.MaxMessage; counted
	// once per message, not per subscriber.
	DropTooLarge = "too_large"
	// DropSendError: the subscriber's Sender returned an error.
	DropSendError = "send_error"
	// DropClosed: the message was still queued when its subscription closed.
	DropClosed = "closed"
)

// Stats is a snapshot of a relay's counters since [New]. Counters of closed
// subscriptions stay included, so every counter only grows.
//
// Accounting: each accepted message is counted once in Published, then once
// in Routed for every subscriber it is offered to. Each routed copy ends in
// exactly one of Delivered, Dropped[DropQueueFull], Dropped[DropSendError] or
// Dropped[DropClosed], or is still queued or being sent. So once the relay is
// closed:
//
//	Routed == Delivered + Dropped[DropQueueFull] + Dropped[DropSendError] + Dropped[DropClosed]
//
// Refused messages are counted in Dropped[DropTooLarge] only.
type Stats struct {
	Published   uint64            // messages accepted by Publish
	Routed      uint64            // copies offered to subscriber queues
	Delivered   uint64            // copies a Sender accepted without error
	Dropped     map[string]uint64 // by reason; every Drop* key is present
	Subscribers int               // open subscriptions
}

// counts is one subscription's counters, or the sum of several.
type counts struct {
	routed, delivered, queueFull, sendErrors, closedDrops uint64
}

func (c *counts) add(o counts) {
	c.routed += o.routed
	c.delivered += o.delivered
	c.queueFull += o.queueFull
	c.sendErrors += o.sendErrors
	c.closedDrops += o.closedDrops
}

// Stats returns the relay's counters. While messages flow, the counters are
// read one by one, not as a single atomic cut.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	total := r.retired
	subs := r.subscriptions()
	r.mu.Unlock()
	for _, s := range subs {
		total.add(s.counts())
	}
	n := len(subs)

	return Stats{
		Published: r.published.Load(),
		Routed:    total.routed,
		Delivered: total.delivered,
		Dropped: map[string]uint64{
			DropQueueFull: total.queueFull,
			DropTooLarge:  r.tooLarge.Load(),
			DropSendError: total.sendErrors,
			DropClosed:    total.closedDrops,
		},
		Subscribers: n,
	}
}

// summarize logs, at most once per Config.SummaryEvery, what was dropped
// since the previous summary. It runs from New until Close.
func (r *Relay) summarize() {
	t := time.NewTicker(r.cfg.SummaryEvery)
	defer t.Stop()
	// Owned by this goroutine: counters already reported.
	reported := make(map[*Subscription]counts)
	var reportedTooLarge uint64
	reportTooLarge := func() {
		if n := r.tooLarge.Load(); n > reportedTooLarge {
			r.log.Info("datarelay: dropped oversized messages",
				DropTooLarge, n-reportedTooLarge, "max_message", r.cfg.MaxMessage, "every", r.cfg.SummaryEvery)
			reportedTooLarge = n
		}
	}
	for {
		select {
		case <-r.done:
			reportTooLarge() // subscriptions log their own totals when they close
			return
		case <-t.C:
		}
		reportTooLarge()

		r.mu.Lock()
		subs := r.subscriptions()
		r.mu.Unlock()

		next := make(map[*Subscription]counts, len(subs))
		for _, s := range subs {
			c, was := s.counts(), reported[s]
			next[s] = c
			if c.queueFull == was.queueFull && c.sendErrors == was.sendErrors {
				continue
			}
			attrs := []any{
				"label", s.label, "subscriber", s.id, "every", r.cfg.SummaryEvery,
				DropQueueFull, c.queueFull - was.queueFull,
				DropSendError, c.sendErrors - was.sendErrors,
			}
			if e := s.lastErr.Load(); e != nil && c.sendErrors > was.sendErrors {
				attrs = append(attrs, "last_error", *e)
			}
			r.log.Info("datarelay: subscriber dropped messages", attrs...)
		}
		reported = next // forgets closed subscriptions
	}
}

// logClosed logs a subscription's totals once it is closed: at Info if it
// ever dropped messages, else at Debug.
func (s *Subscription) logClosed() {
	c := s.counts()
	level := slog.LevelDebug
	if c.queueFull > 0 || c.sendErrors > 0 {
		level = slog.LevelInfo
	}
	s.relay.log.Log(context.Background(), level, "datarelay: subscription closed",
		"label", s.label, "subscriber", s.id, "routed", c.routed, "delivered", c.delivered,
		DropQueueFull, c.queueFull, DropSendError, c.sendErrors, DropClosed, c.closedDrops)
}
