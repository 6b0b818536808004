package datarelay

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Label: "chat", Data: []byte("hello"), Text: true},
		{Label: "", Data: []byte{0, 1, 2}},
		{Label: "x", Data: nil},
	} {
		got, err := Unframe(Frame(m))
		if err != nil || got.Label != m.Label || got.Text != m.Text || !bytes.Equal(got.Data, m.Data) {
			t.Fatalf("round trip of %+v = %+v, %v", m, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0}, {2, 0, 0}, {0, 0, 5, 'a'}} {
		if _, err := Unframe(bad); !errors.Is(err, ErrFrame) {
			t.Errorf("Unframe(%v) = %v, want ErrFrame", bad, err)
		}
	}
}

// An AllLabels subscriber gets every label's messages, framed, in publish order.
func TestSubscribeAllLabels(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	got := make(chan []byte, 16)
	s := r.Subscribe(AllLabels, senderFunc(func(b []byte) { got <- bytes.Clone(b) }))
	defer s.Close()
	want := []Message{{Label: "a", Data: []byte("1"), Text: true}, {Label: "b", Data: []byte{2}}, {Label: "a", Data: []byte("3"), Text: true}}
	for _, m := range want {
		if err := r.Publish(m); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range want {
		select {
		case b := <-got:
			m, err := Unframe(b)
			if err != nil || m.Label != w.Label || m.Text != w.Text || !bytes.Equal(m.Data, w.Data) {
				t.Fatalf("message %d = %+v, %v; want %+v", i, m, err, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d not delivered", i)
		}
	}
}

type senderFunc func([]byte)

func (f senderFunc) Send(b []byte) error     { f(b); return nil }
func (f senderFunc) SendText(s string) error { f([]byte(s)); return nil }
