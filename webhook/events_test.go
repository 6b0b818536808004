package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-media/wisp/wish"
)

// Events arrive in order; a hook failing twice gets the event on the third try, exactly once.
func TestEventsDeliverInOrderWithRetries(t *testing.T) {
	base := runtime.NumGoroutine()
	var calls atomic.Int32
	got := make(chan wish.Event, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		var ev wish.Event
		_ = json.NewDecoder(r.Body).Decode(&ev)
		got <- ev
	}))
	defer hook.Close()
	e := NewEvents(EventsConfig{URL: hook.URL, Backoff: time.Millisecond})
	e.Notify(wish.Event{Type: wish.EventStarted, Stream: "cam", Session: "s1"})
	e.Notify(wish.Event{Type: wish.EventStopped, Stream: "cam", Session: "s1"})
	for _, want := range []string{wish.EventStarted, wish.EventStopped} {
		if ev := <-got; ev.Type != want || ev.Stream != "cam" || ev.Session != "s1" {
			t.Fatalf("got %+v, want %s", ev, want)
		}
	}
	e.Close(context.Background())
	if n := calls.Load(); n != 4 {
		t.Fatalf("%d calls, want 4 (two failures, then two events)", n)
	}
	hook.Close()
	http.DefaultClient.CloseIdleConnections()
	waitGoroutines(t, base)
}

// Notify never blocks: with the hook stuck, the queue fills and further events are dropped and
// counted; Close returns when its context ends and the sender exits.
func TestEventsBoundedAndClose(t *testing.T) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hook.Close()
	e := NewEvents(EventsConfig{URL: hook.URL, Queue: 4, Timeout: time.Hour})
	for i := 0; i < 100; i++ {
		e.Notify(wish.Event{Type: wish.EventStarted, Stream: "cam"})
	}
	// One event is with the sender, 4 wait: at least 95 were dropped at once.
	if d := e.Dropped(); d < 95 || d > 96 {
		t.Fatalf("dropped %d, want 95 or 96", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.Close(ctx)
	e.Notify(wish.Event{Type: wish.EventStopped}) // after Close: ignored, no panic
	close(release)
	hook.Close()
	http.DefaultClient.CloseIdleConnections()
	waitGoroutines(t, base)
}

func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if runtime.NumGoroutine() <= base {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("goroutines %d, want ≤ %d", runtime.NumGoroutine(), base)
}
