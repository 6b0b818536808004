package datarelay

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
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

// fakeEgress records the Relay's hand-off brackets, with how many messages each sender had
// received when each bracket was called.
type fakeEgress struct {
	senders []*fakeDirect
	mu      sync.Mutex
	calls   []string
}

func (e *fakeEgress) log(call string) {
	got := make([]int, len(e.senders))
	for i, s := range e.senders {
		got[i] = len(s.got)
	}
	e.mu.Lock()
	e.calls = append(e.calls, fmt.Sprintf("%s %v", call, got))
	e.mu.Unlock()
}

func (e *fakeEgress) BeginRelay(n int)         { e.log(fmt.Sprintf("begin %d", n)) }
func (e *fakeEgress) EndRelay(n, expected int) { e.log(fmt.Sprintf("end %d %d", n, expected)) }

func (e *fakeEgress) took() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// With an Egress, the Relay's goroutine brackets each hand-off to two or more direct subscribers:
// BeginRelay before the first Send, EndRelay after the last, saying how many Sends were taken by a
// channel with less than expectBytes unacknowledged (their associations write at once): not one
// over expectBytes, nor one over QueueBytes (dropped), nor one whose Send failed. A label with one
// direct subscriber is not bracketed.
func TestDirectHandOffBracketed(t *testing.T) {
	eg := &fakeEgress{}
	r := New(Config{QueueBytes: 4096, MaxMessage: 1000, Egress: eg})
	defer r.Close()
	idle := &fakeDirect{fakeSender: newFake(4)}
	unacked := &fakeDirect{fakeSender: newFake(4)}
	unacked.buffered.Store(expectBytes) // with the message: over expectBytes, under QueueBytes
	full := &fakeDirect{fakeSender: newFake(4)}
	full.buffered.Store(4096)
	failing := &fakeDirect{fakeSender: newFake(4)}
	failing.fail = func(int) error { return errors.New("closed") }
	eg.senders = []*fakeDirect{idle, unacked, full, failing}
	for _, f := range eg.senders {
		r.Subscribe("a", f)
	}
	alone := &fakeDirect{fakeSender: newFake(4)}
	r.Subscribe("b", alone)
	if err := r.Publish(seq("a", 1)); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(seq("b", 2)); err != nil {
		t.Fatal(err)
	}
	recv(t, alone.fakeSender, 1) // the Relay's goroutine handles a's message first
	want := []string{"begin 4 [0 0 0 0]", "end 4 1 [1 1 0 0]"}
	if got := eg.took(); !slices.Equal(got, want) {
		t.Fatalf("brackets %q, want %q", got, want)
	}
	if seqOf(t, recv(t, idle.fakeSender, 1)[0]) != 1 || seqOf(t, recv(t, unacked.fakeSender, 1)[0]) != 1 {
		t.Fatal("wrong message")
	}
}
