package datarelay

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

func TestPublishInOrderByLabel(t *testing.T) {
	r := New(Config{})
	defer r.Close()

	var subsA []*fakeSender
	for range 3 {
		f := newFake(16)
		r.Subscribe("a", f)
		subsA = append(subsA, f)
	}
	subB := newFake(16)
	r.Subscribe("b", subB)

	msgs := []Message{
		{Label: "a", Data: []byte("hello"), Text: true},
		{Label: "b", Data: []byte("for b only"), Text: true},
		{Label: "a", Data: []byte{0, 1, 2, 0xff, 0xfe}},
		{Label: "a", Data: []byte("héllo ✓"), Text: true},
		{Label: "b", Data: []byte{9, 9}},
		{Label: "a", Data: []byte{}},
		{Label: "c", Data: []byte("nobody listens")},
		{Label: "a", Data: bytes.Repeat([]byte{0xab}, 1000)},
	}
	var wantA, wantB []Message
	for _, m := range msgs {
		if err := r.Publish(m); err != nil {
			t.Fatalf("Publish(%q): %v", m.Label, err)
		}
		switch m.Label {
		case "a":
			wantA = append(wantA, m)
		case "b":
			wantB = append(wantB, m)
		}
	}

	check := func(name string, f *fakeSender, want []Message) {
		t.Helper()
		for i, m := range recv(t, f, len(want)) {
			if !bytes.Equal(m.Data, want[i].Data) || m.Text != want[i].Text {
				t.Errorf("%s message %d = %q text=%v, want %q text=%v", name, i, m.Data, m.Text, want[i].Data, want[i].Text)
			}
		}
	}
	for i, f := range subsA {
		check(fmt.Sprintf("a[%d]", i), f, wantA)
	}
	check("b", subB, wantB)

	r.Close()
	for i, f := range append(subsA, subB) {
		if n := len(f.got); n != 0 {
			t.Errorf("subscriber %d got %d extra messages", i, n)
		}
	}
	st := r.Stats()
	if want := uint64(len(msgs)); st.Published != want {
		t.Errorf("Published = %d, want %d", st.Published, want)
	}
	if want := uint64(3*len(wantA) + len(wantB)); st.Delivered != want || st.Routed != want {
		t.Errorf("Delivered, Routed = %d, %d, want %d", st.Delivered, st.Routed, want)
	}
	checkAccounting(t, st)
}

// A subscriber stuck in Send must not hold up Publish nor the other
// subscribers; it loses exactly what does not fit its queue.
func TestPublishNeverBlocksOnStuckSubscriber(t *testing.T) {
	const q = DefaultQueueMessages
	r := New(Config{})
	defer r.Close()
	stuck := newStuckFake(q + 1)
	defer stuck.release() // runs before r.Close, or Close would wait on the stuck Send
	fast := newFake(1)
	r.Subscribe("a", stuck)
	r.Subscribe("a", fast)

	// Message 0 is taken by the stuck goroutine, which then blocks in Send:
	// its queue is empty and will hold exactly q more.
	if err := r.Publish(seq("a", 0)); err != nil {
		t.Fatal(err)
	}
	waitEntered(t, stuck)
	if got := seqOf(t, recv(t, fast, 1)[0]); got != 0 {
		t.Fatalf("fast got %d, want 0", got)
	}

	// Messages 1..q fill the stuck queue, q+1..q+100 are dropped for it.
	// Waiting for the fast subscriber after each Publish keeps its own queue
	// from filling, so its count is exact too.
	for i := 1; i <= q+100; i++ {
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
		if got := seqOf(t, recv(t, fast, 1)[0]); got != i {
			t.Fatalf("fast got %d, want %d", got, i)
		}
	}
	if st := r.Stats(); st.Dropped[DropQueueFull] != 100 {
		t.Fatalf("queue_full = %d, want 100", st.Dropped[DropQueueFull])
	}

	stuck.release()
	for i, m := range recv(t, stuck, q+1) {
		if got := seqOf(t, m); got != i {
			t.Fatalf("stuck got %d at %d, want %d", got, i, i)
		}
	}
	want := uint64(q+101) + uint64(q+1)
	waitFor(t, "deliveries counted", func() bool { return r.Stats().Delivered == want })
	r.Close()
	st := r.Stats()
	if st.Dropped[DropQueueFull] != 100 || st.Routed != 2*uint64(q+101) {
		t.Fatalf("stats %+v", st)
	}
	checkAccounting(t, st)
}

func TestMaxMessage(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	f := newFake(4)
	r.Subscribe("a", f)

	largest := bytes.Repeat([]byte{7}, DefaultMaxMessage)
	if err := r.Publish(Message{Label: "a", Data: largest}); err != nil {
		t.Fatalf("Publish(64 KiB) = %v", err)
	}
	for _, text := range []bool{false, true} {
		err := r.Publish(Message{Label: "a", Data: append(largest, 7), Text: text})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Publish(64 KiB + 1, text=%v) = %v, want ErrTooLarge", text, err)
		}
	}
	if got := recv(t, f, 1)[0]; !bytes.Equal(got.Data, largest) {
		t.Fatalf("delivered %d bytes, want %d", len(got.Data), len(largest))
	}

	r.Close()
	st := r.Stats()
	if st.Published != 1 || st.Delivered != 1 || st.Dropped[DropTooLarge] != 2 || len(f.got) != 0 {
		t.Fatalf("stats %+v, %d extra", st, len(f.got))
	}
}

func TestLateSubscriberGetsOnlyLaterMessages(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	early, late := newFake(8), newFake(8)
	r.Subscribe("a", early)
	for i := range 3 {
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	r.Subscribe("a", late)
	for i := 3; i < 6; i++ {
		if err := r.Publish(seq("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range recv(t, early, 6) {
		if got := seqOf(t, m); got != i {
			t.Fatalf("early got %d, want %d", got, i)
		}
	}
	for i, m := range recv(t, late, 3) {
		if got := seqOf(t, m); got != i+3 {
			t.Fatalf("late got %d, want %d", got, i+3)
		}
	}
	r.Close()
	if len(late.got) != 0 {
		t.Fatalf("late got %d extra messages", len(late.got))
	}
}

// The caller reuses its buffer as soon as Publish returns, while the
// message is still queued or being sent.
func TestPublishCopiesData(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	stuck := newStuckFake(4)
	defer stuck.release()
	r.Subscribe("a", stuck)

	buf := []byte("aaaa")
	for _, text := range []bool{false, true, false} {
		if err := r.Publish(Message{Label: "a", Data: buf, Text: text}); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i]++
		}
	}
	stuck.release()
	for i, m := range recv(t, stuck, 3) {
		if want := bytes.Repeat([]byte{'a' + byte(i)}, 4); !bytes.Equal(m.Data, want) {
			t.Fatalf("message %d = %q, want %q", i, m.Data, want)
		}
	}
}

func TestCloseReleasesEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	r := New(Config{})
	var subs []*Subscription
	for i := range 10 {
		subs = append(subs, r.Subscribe(fmt.Sprint(i%3), newFake(64)))
	}
	for i := range 50 {
		if err := r.Publish(seq(fmt.Sprint(i%3), i)); err != nil {
			t.Fatal(err)
		}
	}
	subs[0].Close()
	subs[0].Close()
	if n := r.Stats().Subscribers; n != 9 {
		t.Fatalf("Subscribers = %d, want 9", n)
	}

	r.Close()
	r.Close()
	for _, s := range subs {
		s.Close() // after Relay.Close: a no-op
	}
	if err := r.Publish(seq("0", 0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	late := newFake(1)
	s := r.Subscribe("0", late)
	s.Close()
	s.Close()
	checkAccounting(t, r.Stats())
	waitGoroutines(t, base)
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"zero", Config{}, Config{QueueMessages: 256, QueueBytes: 1 << 20, MaxMessage: 64 << 10, SummaryEvery: DefaultSummaryEvery}},
		{"negative", Config{QueueMessages: -1, QueueBytes: -1, MaxMessage: -1, SummaryEvery: -1},
			Config{QueueMessages: 256, QueueBytes: 1 << 20, MaxMessage: 64 << 10, SummaryEvery: DefaultSummaryEvery}},
		{"bytes raised to max message", Config{QueueMessages: 2, QueueBytes: 10, MaxMessage: 100, SummaryEvery: 1},
			Config{QueueMessages: 2, QueueBytes: 100, MaxMessage: 100, SummaryEvery: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.withDefaults()
			if got.Logger == nil {
				t.Fatal("nil Logger")
			}
			got.Logger = nil
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
