package datarelay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fakeSender records every message it accepts on got, in order. Optional
// knobs: entered gets a (non-blocking) signal when a call starts; each call
// then waits on gate (close it to release all); fail decides the nth call's
// error.
type fakeSender struct {
	got     chan Message
	entered chan struct{}
	gate    chan struct{}
	fail    func(n int) error
	calls   int // owned by the subscription's goroutine
	open    sync.Once
}

// release closes the gate, once; safe to defer and call.
func (f *fakeSender) release() { f.open.Do(func() { close(f.gate) }) }

func (f *fakeSender) Send(data []byte) error {
	return f.record(Message{Data: bytes.Clone(data)})
}

func (f *fakeSender) SendText(text string) error {
	return f.record(Message{Data: []byte(text), Text: true})
}

func (f *fakeSender) record(m Message) error {
	select {
	case f.entered <- struct{}{}:
	default:
	}
	if f.gate != nil {
		<-f.gate
	}
	n := f.calls
	f.calls++
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return err
		}
	}
	f.got <- m
	return nil
}

// newFake returns a fakeSender able to hold n messages without a reader.
func newFake(n int) *fakeSender { return &fakeSender{got: make(chan Message, n)} }

// newStuckFake returns a fakeSender whose calls block until gate is closed.
func newStuckFake(n int) *fakeSender {
	f := newFake(n)
	f.entered = make(chan struct{}, 1)
	f.gate = make(chan struct{})
	return f
}

var errFake = errors.New("fake: channel not open")

// wait is how long a test waits for a condition before failing; only a
// broken relay ever waits that long.
const wait = 5 * time.Second

// recv waits for the next n messages of f.
func recv(t *testing.T, f *fakeSender, n int) []Message {
	t.Helper()
	deadline := time.After(wait)
	out := make([]Message, 0, n)
	for len(out) < n {
		select {
		case m := <-f.got:
			out = append(out, m)
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(out), n)
		}
	}
	return out
}

// waitEntered waits until f's Sender is called.
func waitEntered(t *testing.T, f *fakeSender) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(wait):
		t.Fatal("Sender never called")
	}
}

// waitFor polls cond until it holds, for a bounded time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitGoroutines waits, up to 2 s, for the goroutine count to return to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want <= %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seq is a binary message carrying i, to check order.
func seq(label string, i int) Message {
	return Message{Label: label, Data: binary.BigEndian.AppendUint32(nil, uint32(i))}
}

// seqOf reads back the number carried by seq.
func seqOf(t *testing.T, m Message) int {
	t.Helper()
	if len(m.Data) != 4 || m.Text {
		t.Fatalf("not a seq message: %+v", m)
	}
	return int(binary.BigEndian.Uint32(m.Data))
}

// checkAccounting asserts the closed-relay invariant documented on Stats.
func checkAccounting(t *testing.T, st Stats) {
	t.Helper()
	ended := st.Delivered + st.Dropped[DropQueueFull] + st.Dropped[DropSendError] + st.Dropped[DropClosed]
	if st.Routed != ended {
		t.Fatalf("routed %d != delivered+dropped %d: %+v", st.Routed, ended, st)
	}
	if st.Subscribers != 0 {
		t.Fatalf("subscribers = %d after Close", st.Subscribers)
	}
}
