package wish

import "sync"

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

// Sessions is a concurrent table of live sessions by id.
type Sessions[S Session] struct {
	mu sync.Mutex
	m  map[string]S
}

// Add records s.
func (t *Sessions[S]) Add(s S) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]S)
	}
	t.m[s.ID()] = s
}

// Remove forgets s if it is still recorded under its id.
func (t *Sessions[S]) Remove(s S) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.m[s.ID()]; ok && cur == s {
		delete(t.m, s.ID())
	}
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
		_ = s.Close()
	}
}
