package datarelay

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Close stops new deliveries, waits for the Send in flight, and drops (and
// counts) what is still queued.
func TestSubscriptionCloseWaitsAndDropsQueued(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	stuck := newStuckFake(8)
	defer stuck.release()
	sub := r.Subscribe("a", stuck)

	for i := range 6 {
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitEntered(t, stuck) // message 0 in Send, 1..5 queued

	closed := make(chan struct{})
	go func() {
		sub.Close()
		close(closed)
	}()
	select {
	case <-sub.done: // Close has begun: the goroutine will stop after this Send
	case <-closed:
		t.Fatal("Close returned while a Send was in flight")
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a Send was in flight")
	default:
	}
	stuck.release()
	<-closed
	sub.Close() // idempotent

	if err := r.Publish(seq("a", 6)); err != nil {
		t.Fatal(err)
	}
	if got := seqOf(t, recv(t, stuck, 1)[0]); got != 0 || len(stuck.got) != 0 {
		t.Fatalf("delivered %d then %d more, want only message 0", got, len(stuck.got))
	}
	st := r.Stats()
	if st.Delivered != 1 || st.Dropped[DropClosed] != 5 || st.Subscribers != 0 || st.Routed != 6 {
		t.Fatalf("stats %+v", st)
	}
	checkAccounting(t, st)
}

func TestQueueBytesCap(t *testing.T) {
	r := New(Config{QueueBytes: 1000, MaxMessage: 300})
	defer r.Close()
	stuck := newStuckFake(8)
	defer stuck.release()
	sub := r.Subscribe("a", stuck)

	sized := func(i, n int) Message {
		return Message{Label: "a", Data: bytes.Repeat([]byte{byte(i)}, n)}
	}
	publish := func(m Message) {
		t.Helper()
		if err := r.Publish(m); err != nil {
			t.Fatal(err)
		}
	}
	publish(sized(0, 300)) // taken by the goroutine: not queued
	waitEntered(t, stuck)
	publish(sized(1, 300))
	publish(sized(2, 300))
	publish(sized(3, 300)) // 900 bytes queued
	publish(sized(4, 300)) // 1200 > 1000: dropped
	publish(sized(5, 100)) // exactly 1000: queued
	if st := r.Stats(); st.Dropped[DropQueueFull] != 1 {
		t.Fatalf("queue_full = %d, want 1", st.Dropped[DropQueueFull])
	}

	stuck.release()
	for i, m := range recv(t, stuck, 5) {
		want := []int{0, 1, 2, 3, 5}[i]
		if m.Data[0] != byte(want) {
			t.Fatalf("message %d is %d, want %d", i, m.Data[0], want)
		}
	}
	waitFor(t, "queue empty", func() bool { return sub.queuedBytes.Load() == 0 })
}

func TestSendErrorsCountedDeliveryContinues(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	f := newFake(16)
	f.fail = func(n int) error {
		if n%2 == 1 {
			return errFake
		}
		return nil
	}
	r.Subscribe("a", f)
	for i := range 10 {
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range recv(t, f, 5) {
		if got := seqOf(t, m); got != 2*i {
			t.Fatalf("got %d, want %d", got, 2*i)
		}
	}
	waitFor(t, "all sends counted", func() bool {
		st := r.Stats()
		return st.Delivered == 5 && st.Dropped[DropSendError] == 5
	})
	if n := r.Stats().Subscribers; n != 1 {
		t.Fatalf("Subscribers = %d, want 1: errors must not close the subscription", n)
	}
}

// Publishers, subscribers and closers all at once: meant for -race, then the
// books must balance.
func TestConcurrentChurn(t *testing.T) {
	base := runtime.NumGoroutine()
	r := New(Config{QueueMessages: 8})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			buf := make([]byte, 32)
			for i := range 500 {
				buf[0] = byte(i)
				if err := r.Publish(Message{Label: fmt.Sprint(i % 2), Data: buf, Text: p%2 == 0}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for c := range 4 {
		wg.Go(func() {
			for i := range 50 {
				f := newFake(1000)
				if i%3 == 0 {
					f.fail = func(int) error { return errFake }
				}
				s := r.Subscribe(fmt.Sprint((c+i)%2), f)
				_ = r.Stats()
				if i%2 == 0 {
					s.Close()
				}
			}
		})
	}
	wg.Wait()
	r.Close()
	st := r.Stats()
	if st.Published != 2000 {
		t.Fatalf("Published = %d, want 2000", st.Published)
	}
	checkAccounting(t, st)
	waitGoroutines(t, base)
}
