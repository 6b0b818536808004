package metrics

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeSource and fakeSession are the server and sessions as a test sets them.
type fakeSource struct {
	mu      sync.Mutex
	streams []StreamState
}

func (f *fakeSource) Streams() []StreamState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StreamState(nil), f.streams...)
}
func (f *fakeSource) Sessions(string) int { return 0 }

type fakeSession struct {
	stream string
	sample Sample
	done   chan struct{}
}

func (s *fakeSession) StreamName() string    { return s.stream }
func (s *fakeSession) Sample() Sample        { return s.sample }
func (s *fakeSession) Done() <-chan struct{} { return s.done }

func newSession(stream string, out uint64) *fakeSession {
	return &fakeSession{stream: stream, sample: Sample{BytesOut: out, VideoPackets: out / 1000}, done: make(chan struct{})}
}

// value scrapes m and returns one sample's value ("" when the series is absent).
func value(t *testing.T, m *Metrics, name, labels string) string {
	t.Helper()
	n, err := testutil.GatherAndCount(m.reg, name)
	if err != nil || n == 0 {
		t.Fatalf("%s: %d series, %v", name, n, err)
	}
	mfs, _ := m.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mm := range mf.Metric {
			var ls []string
			for _, l := range mm.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			if strings.Join(ls, ",") == labels {
				if mm.Counter != nil {
					return ftoa(mm.Counter.GetValue())
				}
				return ftoa(mm.Gauge.GetValue())
			}
		}
	}
	return ""
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Counters never go down as sessions and streams end: a viewer that ends moves its final bytes
// into its stream's account, a stream that ends moves its total into the server-wide one, and a
// stream over MaxStreams counts under _other, whose value keeps what its streams counted.
func TestLedgerMonotonic(t *testing.T) {
	src := &fakeSource{streams: []StreamState{{Name: "a", Live: true, Viewers: 2}, {Name: "b", Live: true, Viewers: 1}}}
	m := New(Config{Source: src, MaxStreams: 1})
	a1, a2, b1 := newSession("a", 1000), newSession("a", 2000), newSession("b", 5000)
	for _, s := range []*fakeSession{a1, a2, b1} {
		m.Started(KindWHEP, s)
	}
	if got := value(t, m, "wisp_egress_bytes_total", "stream=a"); got != "3000" {
		t.Fatalf("a egress %s, want 3000", got)
	}
	if got := value(t, m, "wisp_egress_bytes_total", "stream=_other"); got != "5000" {
		t.Fatalf("_other egress %s, want b's 5000", got)
	}
	if got := value(t, m, "wisp_stream_viewers", "stream=_other"); got != "1" {
		t.Fatalf("_other viewers %s", got)
	}

	// a1 sends more, then ends: a keeps its final count.
	a1.sample.BytesOut = 1500
	close(a1.done)
	m.Ended(KindWHEP, a1)
	if got := value(t, m, "wisp_egress_bytes_total", "stream=a"); got != "3500" {
		t.Fatalf("a egress after a1 ended: %s, want 3500", got)
	}
	// b ends entirely: its series is gone from _other's members but _other keeps its count.
	close(b1.done)
	m.Ended(KindWHEP, b1)
	src.mu.Lock()
	src.streams = src.streams[:1]
	src.mu.Unlock()
	if got := value(t, m, "wisp_egress_bytes_total", "stream=_other"); got != "5000" {
		t.Fatalf("_other egress after b ended: %s, want 5000", got)
	}
	if got := value(t, m, "wisp_egress_packets_total", "kind=video"); got != "8" { // 1+2+5
		t.Fatalf("video packets %s, want 8", got)
	}
	// a ends: its series goes, the server-wide packets stay.
	close(a2.done)
	m.Ended(KindWHEP, a2)
	src.mu.Lock()
	src.streams = nil
	src.mu.Unlock()
	if got := value(t, m, "wisp_egress_bytes_total", "stream=a"); got != "" {
		t.Fatalf("a's series after its end: %s", got)
	}
	if got := value(t, m, "wisp_egress_packets_total", "kind=video"); got != "8" {
		t.Fatalf("video packets after every end: %s, want 8", got)
	}
	if len(m.streams) != 0 || len(m.live) != 0 {
		t.Fatalf("ledger keeps %d streams, %d sessions after every end", len(m.streams), len(m.live))
	}
}

// A join is in the scrape that finds it: the join histogram is collected after the scrape has
// observed the joins of the sessions it sampled (registered on its own, the registry collected
// it concurrently with them, and a join showed one scrape late, at random). Each round is a new
// Metrics whose first scrape must already count the live session's join.
func TestJoinInTheScrapeThatFindsIt(t *testing.T) {
	for round := range 200 {
		src := &fakeSource{streams: []StreamState{{Name: "a", Live: true, Viewers: 1}}}
		m := New(Config{Source: src})
		s := newSession("a", 1000)
		s.sample.Joined = 40 * time.Millisecond
		m.Started(KindWHEP, s)
		mfs, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var count uint64
		for _, mf := range mfs {
			if mf.GetName() == "wisp_join_seconds" {
				count = mf.Metric[0].GetHistogram().GetSampleCount()
			}
		}
		if count != 1 {
			t.Fatalf("round %d: the first scrape counts %d joins, want 1", round, count)
		}
	}
}
