package wish

import (
	"context"
	"time"

	"github.com/wisp-media/wisp/stream"
)

// Open takes a hold on the named stream, runs start (the negotiation) within timeout and records
// the session it returns with its answer. If start fails, the hold is given back and nothing is
// recorded. The session's own end must call Ended.
func (t *Sessions[S]) Open(ctx context.Context, reg *stream.Registry, name string, timeout time.Duration,
	start func(ctx context.Context, st *stream.Stream) (S, string, error)) (S, string, error) {
	var zero S
	st, err := reg.Acquire(name)
	if err != nil {
		return zero, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, answer, err := start(ctx, st)
	if err != nil {
		reg.Release(st)
		return zero, "", err
	}
	t.Add(s)
	if t.observer != nil {
		t.observer.SessionStarted(s)
	}
	return s, answer, nil
}

// Ended is the bookkeeping of a session that ended: it leaves the table (with a tombstone if no
// DELETE ended it) and gives back its hold on st.
func (t *Sessions[S]) Ended(reg *stream.Registry, st *stream.Stream, s S) {
	t.Remove(s)
	reg.Release(st)
	if t.observer != nil {
		t.observer.SessionEnded(s)
	}
}
