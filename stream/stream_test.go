package stream

import (
	"errors"
	"testing"

	"github.com/wisp-media/wisp/datarelay"
)

// fakePublisher is a Publisher that only records Close.
type fakePublisher struct{ closed int }

func (f *fakePublisher) Close() error { f.closed++; return nil }

// TestPublisherSlot: SetPublisher replaces (returning the old one for the caller to close) or
// refuses with ErrPublisherLive (WHIP-06); IsPublisher is true only for the current publisher, so
// a replaced publisher's late readers can tell they no longer own the tracks; ClearPublisher
// clears only its own slot.
func TestPublisherSlot(t *testing.T) {
	s := newStream("cam", datarelay.Config{})
	defer s.relay.Close()
	a, b := &fakePublisher{}, &fakePublisher{}
	if old, err := s.SetPublisher(a, true); old != nil || err != nil {
		t.Fatalf("first SetPublisher: %v, %v", old, err)
	}
	if !s.IsPublisher(a) || s.IsPublisher(b) {
		t.Fatal("IsPublisher after the first SetPublisher")
	}
	if _, err := s.SetPublisher(b, false); !errors.Is(err, ErrPublisherLive) || !s.IsPublisher(a) {
		t.Fatalf("SetPublisher without replace: %v; a still publisher %v", err, s.IsPublisher(a))
	}
	if old, err := s.SetPublisher(b, true); old != a || err != nil {
		t.Fatalf("replacing SetPublisher: %v, %v", old, err)
	}
	if s.IsPublisher(a) || !s.IsPublisher(b) {
		t.Fatal("IsPublisher after the replacement")
	}
	if s.ClearPublisher(a) || !s.IsPublisher(b) {
		t.Fatal("the replaced publisher cleared its successor")
	}
	if !s.ClearPublisher(b) || s.IsPublisher(b) {
		t.Fatal("ClearPublisher of the current publisher")
	}
}
