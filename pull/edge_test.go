package pull

import (
	"context"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-media/wisp/cluster"
	"github.com/wisp-media/wisp/stream"
	"github.com/wisp-media/wisp/wish"
)

// fakeDirectory answers Lookup with a settable error and counts the calls.
type fakeDirectory struct {
	err     atomic.Pointer[error]
	lookups atomic.Int64
}

func (d *fakeDirectory) set(err error) { d.err.Store(&err) }

func (d *fakeDirectory) Lookup(context.Context, string) (cluster.Owner, error) {
	d.lookups.Add(1)
	return cluster.Owner{}, *d.err.Load()
}

func newTestEdge(t *testing.T, dir *fakeDirectory) (*Edge, *stream.Registry) {
	t.Helper()
	reg := stream.NewRegistry(stream.RegistryConfig{})
	e := New(Config{Directory: dir, Signer: cluster.NewSigner("0123456789abcdef"), Node: "me", Registry: reg,
		Idle: 300 * time.Millisecond, Poll: 20 * time.Millisecond})
	t.Cleanup(e.Close)
	return e, reg
}

// A viewer that needs a new pull while the directory is away is refused with 503 + Retry-After,
// and nothing is watched.
func TestWatchDirectoryAway(t *testing.T) {
	dir := &fakeDirectory{}
	dir.set(cluster.ErrUnavailable)
	e, reg := newTestEdge(t, dir)
	st, err := reg.Acquire("live")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Release(st)
	_, err = e.Watch(st)
	we, ok := wish.AsError(err)
	if !ok || we.Status != http.StatusServiceUnavailable || we.Header.Get("Retry-After") == "" {
		t.Fatalf("Watch with the directory away = %v, want 503 + Retry-After", err)
	}
	if e.Pulls() != 0 || len(e.watched) != 0 {
		t.Fatal("a refused viewer left a watched stream")
	}
}

// A viewer of a stream nobody publishes yet is accepted and waits; the stream is looked up on
// every poll; once the last viewer has been gone for Idle, the loop ends and its goroutine is
// gone.
func TestWatchWaitsAndEndsWhenIdle(t *testing.T) {
	base := runtime.NumGoroutine()
	dir := &fakeDirectory{}
	dir.set(cluster.ErrNoOwner)
	e, reg := newTestEdge(t, dir)
	st, err := reg.Acquire("live")
	if err != nil {
		t.Fatal(err)
	}
	release, err := e.Watch(st)
	if err != nil {
		t.Fatalf("Watch before any publisher: %v", err)
	}
	before := dir.lookups.Load()
	deadline := time.Now().Add(5 * time.Second)
	for dir.lookups.Load() < before+3 {
		if time.Now().After(deadline) {
			t.Fatal("the waiting viewer's stream is not looked up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	release()
	release() // idempotent
	reg.Release(st)
	for {
		e.mu.Lock()
		n := len(e.watched)
		e.mu.Unlock()
		if n == 0 && runtime.NumGoroutine() <= base+1 {
			break
		}
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("idle loop still running: %d watched, %d goroutines (base %d)", n, runtime.NumGoroutine(), base)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if reg.Len() != 0 {
		t.Fatal("the ended loop still holds the stream")
	}
}
