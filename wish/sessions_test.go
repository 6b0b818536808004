package wish

import "testing"

type fakeSession struct{ id, stream string }

func (f *fakeSession) ID() string         { return f.id }
func (f *fakeSession) StreamName() string { return f.stream }
func (f *fakeSession) Close() error       { return nil }

// A session that ended on its own answers its client's DELETE once with 200, then 404; one ended
// by a DELETE leaves nothing behind (COMMON-18, COMMON-19).
func TestSessionsTombstones(t *testing.T) {
	var tab Sessions[*fakeSession]
	a, b := &fakeSession{"a", "cam"}, &fakeSession{"b", "cam"}
	tab.Add(a)
	tab.Add(b)
	if got, ok := tab.Get("cam", "a"); !ok || got != a {
		t.Fatal("a not found")
	}
	if _, ok := tab.Get("other", "a"); ok {
		t.Fatal("a found under another stream")
	}
	tab.Remove(a) // ended on its own
	if _, ok := tab.Get("cam", "a"); ok {
		t.Fatal("a still live")
	}
	if tab.Forget("other", "a") {
		t.Fatal("tombstone matched another stream")
	}
	if !tab.Forget("cam", "a") || tab.Forget("cam", "a") {
		t.Fatal("tombstone must answer exactly once")
	}
	tab.Take(b) // ended by DELETE
	tab.Remove(b)
	if tab.Forget("cam", "b") || tab.Len() != 0 {
		t.Fatalf("b left a tombstone or an entry (len %d)", tab.Len())
	}
	if tab.Forget("cam", "never") {
		t.Fatal("unknown id forgotten")
	}
}
