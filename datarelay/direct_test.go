package datarelay

import (
	"bytes"
	"runtime"
	"sync/atomic"
	"testing"
)

// fakeDirect is a fakeSender that says it never waits (a DirectSender) and reports buffered
// bytes as set by the test.
type fakeDirect struct {
	*fakeSender
	buffered atomic.Uint64
}

func (f *fakeDirect) BufferedAmount() uint64 { return f.buffered.Load() }

// Direct subscribers (pion data channels) get every message of their label, in order, from the
// Relay's one goroutine; a queued subscriber of the same label and a direct subscriber of
// AllLabels (framed) alongside; no goroutine is left after Close, and every message routed is
// accounted for.
func TestDirectSubscribersInOrder(t *testing.T) {
	base := runtime.NumGoroutine()
	r := New(Config{})
	const n = 200
	var direct []*fakeDirect
	for range 3 {
		f := &fakeDirect{fakeSender: newFake(n + 1)}
		if s := r.Subscribe("a", f); s.directSender == nil {
			t.Fatal("a DirectSender was given a goroutine of its own")
		}
		direct = append(direct, f)
	}
	queued := newFake(n + 1)
	r.Subscribe("a", queued)
	all := &fakeDirect{fakeSender: newFake(n + 1)}
	r.Subscribe(AllLabels, all)
	for i := range n {
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Publish(Message{Label: "a", Data: []byte("héllo"), Text: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]*fakeSender{queued}, direct[0].fakeSender, direct[1].fakeSender, direct[2].fakeSender) {
		got := recv(t, f, n+1)
		for i, m := range got[:n] {
			if seqOf(t, m) != i {
				t.Fatalf("message %d carries %d", i, seqOf(t, m))
			}
		}
		if last := got[n]; !last.Text || string(last.Data) != "héllo" {
			t.Fatalf("text message arrived as %+v", last)
		}
	}
	for i, m := range recv(t, all.fakeSender, n+1)[:n] {
		u, err := Unframe(m.Data)
		if err != nil || u.Label != "a" || !bytes.Equal(u.Data, seq("a", i).Data) {
			t.Fatalf("framed message %d = %+v (%v)", i, u, err)
		}
	}
	r.Close()
	st := r.Stats()
	if want := uint64(5 * (n + 1)); st.Routed != want || st.Delivered != want {
		t.Fatalf("routed %d, delivered %d, want %d", st.Routed, st.Delivered, want)
	}
	checkAccounting(t, st)
	waitGoroutines(t, base)
}

// A direct subscriber whose Sender holds Config.QueueBytes already (a viewer that stopped
// reading) misses the message, alone, counted as queue_full: what a viewer holds in its SCTP
// association is bounded.
func TestDirectBoundedByBufferedAmount(t *testing.T) {
	r := New(Config{QueueBytes: 1000, MaxMessage: 100})
	defer r.Close()
	full := &fakeDirect{fakeSender: newFake(10)}
	full.buffered.Store(950)
	ok := &fakeDirect{fakeSender: newFake(10)}
	r.Subscribe("a", full)
	r.Subscribe("a", ok)
	for i := range 3 {
		if err := r.Publish(Message{Label: "a", Data: bytes.Repeat([]byte{byte(i)}, 60)}); err != nil {
			t.Fatal(err)
		}
	}
	recv(t, ok.fakeSender, 3)
	waitFor(t, "drops counted", func() bool { return r.Stats().Dropped[DropQueueFull] == 3 })
	full.buffered.Store(0) // it read again
	if err := r.Publish(seq("a", 7)); err != nil {
		t.Fatal(err)
	}
	if got := seqOf(t, recv(t, full.fakeSender, 1)[0]); got != 7 {
		t.Fatalf("got %d, want 7", got)
	}
	recv(t, ok.fakeSender, 1)
	r.Close()
	st := r.Stats()
	if st.Delivered != 5 || st.Dropped[DropQueueFull] != 3 {
		t.Fatalf("stats %+v", st)
	}
	checkAccounting(t, st)
}

// A direct Sender stuck in Send (which pion's never is) holds up the Relay's goroutine, never
// Publish: messages beyond the Relay's queue are dropped for the direct subscribers, counted.
// Closing the stuck subscription waits for its Send to return, and nothing is counted for it
// afterwards.
func TestDirectStuckSenderNeverBlocksPublish(t *testing.T) {
	const q = 8
	r := New(Config{QueueMessages: q})
	defer r.Close()
	stuck := &fakeDirect{fakeSender: newStuckFake(2*q + 2)}
	defer stuck.release()
	sub := r.Subscribe("a", stuck)
	if err := r.Publish(seq("a", 0)); err != nil {
		t.Fatal(err)
	}
	waitEntered(t, stuck.fakeSender)
	for i := 1; i <= 2*q+5; i++ { // 2q wait in the queue (room for a label's and AllLabels'), 5 are dropped
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if d := r.Stats().Dropped[DropQueueFull]; d != 5 {
		t.Fatalf("queue_full %d, want 5", d)
	}
	closed := make(chan struct{})
	go func() { sub.Close(); close(closed) }()
	waitFor(t, "Close to mark the subscription closed", func() bool {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		return sub.closed
	})
	select {
	case <-closed:
		t.Fatal("Close returned while a Send to the subscription was in flight")
	default:
	}
	stuck.release()
	<-closed
	// Close waited for the Send in flight: its message is already recorded.
	if n := len(stuck.got); n != 1 {
		t.Fatalf("%d messages recorded when Close returned, want the one in flight", n)
	}
	if got := seqOf(t, <-stuck.got); got != 0 {
		t.Fatalf("got %d, want 0", got)
	}
	r.Close()
	st := r.Stats()
	if st.Routed != 6 || st.Delivered != 1 || st.Dropped[DropQueueFull] != 5 {
		t.Fatalf("stats %+v: want the first delivered, 5 dropped, the queued ones never routed", st)
	}
	checkAccounting(t, st)
	if len(stuck.got) != 0 {
		t.Fatalf("%d messages sent after Close", len(stuck.got))
	}
}
