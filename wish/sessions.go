package wish

import (
	"sync"
	"time"

	"github.com/wisp-media/wisp/rtc"
)

// Tombstones: how long, and how many, sessions that ended on their own are remembered.
const (
	tombstoneTTL = time.Minute
	maxTombstone = 4096
)

// Session is what a session table needs of a WHIP or WHEP session.
type Session interface {
	comparable
	// ID is the session id, the last segment of the session URL.
	ID() string
	// StreamName is the stream the session belongs to.
	StreamName() string
	// Close ends the session and waits for it; safe to call many times.
	Close() error
}

// Sessions is a concurrent table of live sessions by id. It also remembers, for a minute, the
// sessions that ended without a DELETE (ICE failure, the peer's DTLS close, a replacing
// publisher), so that the client's own DELETE arriving just after still gets 200: OBS and
// Medooze's stop() close the PeerConnection before they DELETE, and OBS warns on anything but
// 200. The tombstone is consumed by that DELETE, so a second DELETE is 404 (COMMON-18, COMMON-19).
type Sessions[S Session] struct {
	observer Observer // set before use by Observe

	mu    sync.Mutex
	m     map[string]S
	ended map[string]tombstone
}

type tombstone struct {
	stream string
	at     time.Time
}

// Observer is told when a session starts and when it has ended (the metrics follow sessions so).
// Its methods run on the goroutine of the event and must not block.
type Observer interface {
	SessionStarted(s any)
	SessionEnded(s any)
}

// Observe makes o follow the table's sessions; call it before the table is used.
func (t *Sessions[S]) Observe(o Observer) { t.observer = o }

// Add records s.
func (t *Sessions[S]) Add(s S) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]S)
	}
	t.m[s.ID()] = s
}

// Remove forgets s if it is still recorded under its id (it ended on its own), leaving a
// tombstone for Forget.
func (t *Sessions[S]) Remove(s S) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.m[s.ID()]
	if !ok || cur != s {
		return
	}
	delete(t.m, s.ID())
	now := time.Now()
	if t.ended == nil {
		t.ended = make(map[string]tombstone)
	}
	for id, ts := range t.ended {
		if now.Sub(ts.at) > tombstoneTTL || len(t.ended) >= maxTombstone {
			delete(t.ended, id)
		}
	}
	t.ended[s.ID()] = tombstone{stream: s.StreamName(), at: now}
}

// Take removes s from the table without a tombstone: the caller (a DELETE) ends it.
func (t *Sessions[S]) Take(s S) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.m[s.ID()]; ok && cur == s {
		delete(t.m, s.ID())
	}
}

// Forget reports whether the named session ended on its own within the last minute, and
// consumes that record.
func (t *Sessions[S]) Forget(stream, id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts, ok := t.ended[id]
	if !ok || ts.stream != stream || time.Since(ts.at) > tombstoneTTL {
		return false
	}
	delete(t.ended, id)
	return true
}

// Get returns the session with that id if it belongs to the named stream.
func (t *Sessions[S]) Get(stream, id string) (S, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[id]
	if !ok || s.StreamName() != stream {
		var zero S
		return zero, false
	}
	return s, true
}

// Len returns the number of sessions.
func (t *Sessions[S]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// CloseAll closes every session, outside the lock, and waits for each.
func (t *Sessions[S]) CloseAll() {
	t.mu.Lock()
	all := make([]S, 0, len(t.m))
	for _, s := range t.m {
		all = append(all, s)
	}
	t.mu.Unlock()
	for _, s := range all {
		_ = CloseBecause(s, rtc.ReasonShutdown)
	}
}

// CloseBecause closes s, telling it why (an rtc.Reason… constant) if it can take a reason (an
// rtc.Peer can: its "session ended" log line says it).
func CloseBecause(s interface{ Close() error }, reason string) error {
	if r, ok := s.(interface{ CloseBecause(string) error }); ok {
		return r.CloseBecause(reason)
	}
	return s.Close()
}
