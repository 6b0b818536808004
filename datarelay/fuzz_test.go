package datarelay

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzRelay drives a relay with op sequences read from the fuzz input, two
// bytes per op (op, arg), from one goroutine, so a model can predict exactly
// what each subscriber may receive:
//
//	op%8 0-3  publish: label op/8%3, length arg%64 (over MaxMessage from 49), text if op >= 128
//	op%8 4-5  subscribe: label op/8%3, Sender failing every (arg%4)th call (0: never)
//	op%8 6    close subscription arg%len
//	op%8 7    close the relay if arg%4 == 0, else read Stats
//
// Checked: no panic or deadlock; Stats matches the model; every subscriber
// received an in-order subsequence (exact bytes and Text flag) of the messages
// of its label published while it was open; and once closed the books
// balance: for each subscriber, offered == delivered + queue_full +
// send_error + closed, which sums to the Stats invariant.
func FuzzRelay(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{4, 0, 0, 5, 128, 7, 6, 0, 0, 0})
	f.Add([]byte{4, 0, 12, 1, 4, 1, 0, 60, 0, 10, 0, 20, 0, 30, 6, 1, 0, 40, 7, 0, 0, 1, 4, 0})
	f.Add(bytes.Repeat([]byte{4, 2, 0, 40, 128, 3, 8, 5, 12, 63}, 8))
	f.Add(bytes.Repeat([]byte{0, 48, 0, 49, 5, 3, 4, 0, 0, 47, 6, 9, 7, 1}, 6))

	f.Fuzz(func(t *testing.T, in []byte) {
		in = in[:min(len(in), 512)] // 256 ops exercise plenty and keep fakes small
		const maxMessage = 48
		r := New(Config{QueueMessages: 4, QueueBytes: 100, MaxMessage: maxMessage})
		labels := []string{"a", "b", "c"}
		type modelSub struct {
			sub      *Subscription
			fake     *fakeSender
			label    string
			from, to int // window into accepted; to < 0 while open
		}
		var (
			subs           []*modelSub
			accepted       []Message
			tooLarge, open int
			closed         bool
		)
		for i := 0; i+1 < len(in); i += 2 {
			op, arg := in[i], in[i+1]
			label := labels[int(op/8)%len(labels)]
			switch op % 8 {
			case 0, 1, 2, 3:
				data := make([]byte, arg%64)
				for j := range data {
					data[j] = byte(i + j)
				}
				m := Message{Label: label, Data: data, Text: op >= 128}
				err := r.Publish(m)
				switch {
				case closed:
					if !errors.Is(err, ErrClosed) {
						t.Fatalf("Publish after Close = %v", err)
					}
				case len(data) > maxMessage:
					if !errors.Is(err, ErrTooLarge) {
						t.Fatalf("Publish(%d bytes) = %v", len(data), err)
					}
					tooLarge++
				case err != nil:
					t.Fatalf("Publish: %v", err)
				default:
					accepted = append(accepted, m)
				}
			case 4, 5:
				fake := newFake(len(in))
				if k := int(arg % 4); k > 0 {
					fake.fail = func(n int) error {
						if n%k == 0 {
							return errFake
						}
						return nil
					}
				}
				ms := &modelSub{sub: r.Subscribe(label, fake), fake: fake, label: label, from: len(accepted), to: -1}
				if closed {
					ms.to = ms.from
				} else {
					open++
				}
				subs = append(subs, ms)
			case 6:
				if len(subs) == 0 {
					continue
				}
				ms := subs[int(arg)%len(subs)]
				ms.sub.Close()
				if ms.to < 0 {
					ms.to = len(accepted)
					open--
				}
			case 7:
				if arg%4 == 0 {
					r.Close()
					closed = true
					for _, ms := range subs {
						if ms.to < 0 {
							ms.to = len(accepted)
						}
					}
					open = 0
				}
				st := r.Stats()
				if st.Subscribers != open || st.Published != uint64(len(accepted)) || st.Dropped[DropTooLarge] != uint64(tooLarge) {
					t.Fatalf("stats %+v; model: %d open, %d accepted, %d too large", st, open, len(accepted), tooLarge)
				}
			}
		}
		r.Close()
		for _, ms := range subs {
			if ms.to < 0 {
				ms.to = len(accepted)
			}
		}

		st := r.Stats()
		if st.Published != uint64(len(accepted)) || st.Dropped[DropTooLarge] != uint64(tooLarge) {
			t.Fatalf("stats %+v; model: %d accepted, %d too large", st, len(accepted), tooLarge)
		}
		checkAccounting(t, st)
		var offered, delivered, calls uint64
		for n, ms := range subs {
			// Closing waited for the goroutine: its calls count is ours to read.
			close(ms.fake.got)
			var got []Message
			for m := range ms.fake.got {
				got = append(got, m)
			}
			var window []Message
			for _, m := range accepted[ms.from:ms.to] {
				if m.Label == ms.label {
					window = append(window, m)
				}
			}
			if !isSubsequence(got, window) {
				t.Fatalf("subscriber %d (%q) got %d messages not in order among its %d", n, ms.label, len(got), len(window))
			}
			c := ms.sub.counts()
			if c.routed != uint64(len(window)) || c.delivered != uint64(len(got)) ||
				c.routed != c.delivered+c.queueFull+c.sendErrors+c.closedDrops {
				t.Fatalf("subscriber %d: counts %+v, window %d, received %d", n, c, len(window), len(got))
			}
			offered += c.routed
			delivered += c.delivered
			calls += uint64(ms.fake.calls)
		}
		if st.Routed != offered || st.Delivered != delivered || calls != st.Delivered+st.Dropped[DropSendError] {
			t.Fatalf("stats %+v; subscribers: %d offered, %d delivered, %d Sender calls", st, offered, delivered, calls)
		}
	})
}

// isSubsequence reports whether got appears in want in order, message by
// message (bytes and Text flag).
func isSubsequence(got, want []Message) bool {
	j := 0
	for _, g := range got {
		for j < len(want) && (!bytes.Equal(g.Data, want[j].Data) || g.Text != want[j].Text) {
			j++
		}
		if j == len(want) {
			return false
		}
		j++
	}
	return true
}
