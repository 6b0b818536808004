package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wisp-media/wisp/client"
)

// scrape is one parsed /metrics answer.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics GETs /metrics from the server's metrics listener and parses the text format.
func scrapeMetrics(t testing.TB, s *testServer) scrape {
	t.Helper()
	r, err := http.Get("http://" + s.metricsL.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", r.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels include want ("k=v" pairs), or nil.
func (sc scrape) find(name string, want ...string) *dto.Metric {
	f := sc[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, w := range want {
			k, v, _ := strings.Cut(w, "=")
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is the value of a gauge or counter (the test fails if there is none).
func (sc scrape) value(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	m := sc.find(name, labels...)
	if m == nil {
		t.Fatalf("no %s%v in /metrics", name, labels)
	}
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	t.Fatalf("%s%v is neither gauge nor counter", name, labels)
	return 0
}

// streamLabels lists the values of the stream label in family name.
func (sc scrape) streamLabels(name string) []string {
	var out []string
	if f := sc[name]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "stream" {
					out = append(out, l.GetValue())
				}
			}
		}
	}
	return out
}

// The metrics of a live server (issue 14, Done-when 1): one publisher and three viewers; the
// gauges equal what is live, wisp_egress_bytes_total{stream} agrees with the bytes the three
// viewers received on their transports within 2 %, the join histogram has three samples (WHEP
// POST to first keyframe), refused POSTs count under their reasons (a wrong key, the session cap,
// a bad offer, the rate limit: each exactly as many times as the test saw that status), and the
// stream's series go when it ends while the server-wide counters keep their values.
func TestMetricsLive(t *testing.T) {
	srv := startServer(t, func(c *config) {
		c.Metrics, c.MetricsStreams = "127.0.0.1:0", 100
		c.PublishKeys = keyMap{"locked": "right-key"}
		c.Limits = limitsConfig{MaxSessions: 4, Rate: 1, Burst: 30}
	})
	first := scrapeMetrics(t, srv)
	for _, kind := range []string{"whip", "whep"} { // known label values start at 0
		for _, reason := range []string{"auth", "rate_limit", "session_cap", "negotiating_cap", "bad_offer", "publisher_live"} {
			if v := first.value(t, "wisp_sessions_rejected_total", "kind="+kind, "reason="+reason); v != 0 {
				t.Fatalf("rejected{%s,%s} = %v at start", kind, reason, v)
			}
		}
	}
	if v := first.value(t, "wisp_egress_bytes_total", "stream=_other"); v != 0 {
		t.Fatalf("_other egress %v at start", v)
	}

	// Refusals, each counted under its reason as often as the test saw its status.
	seen := map[string]int{}
	post := func(path, token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/sdp")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if st := post("/whip/locked", "wrong-key", "v=0\r\n"); st != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d, want 401", st)
	}
	seen["whip/auth"]++

	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	var viewers []*client.Viewer
	for i := range 3 {
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, Audio: true})
		if err != nil {
			t.Fatalf("view %d: %v", i, err)
		}
		viewers = append(viewers, v)
		recvFrames(t, v, m, 30, 10*time.Second)
	}

	received := func() (n uint64) {
		for _, v := range viewers {
			_, r := v.TransportBytes()
			n += r
		}
		return n
	}
	recvFrames(t, viewers[2], m, 60, 10*time.Second) // more bytes: the scrape's own time weighs less
	// The viewers' bytes are read just before and just after the scrape; a scrape that took long
	// (the race detector) is repeated so the window is under 1 % and the 2 % check means something.
	var before, after uint64
	var sc scrape
	for try := 0; try < 10; try++ {
		before = received()
		sc = scrapeMetrics(t, srv)
		after = received()
		if float64(after-before) < 0.01*float64(before) {
			break
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wisp_streams", nil, 1},
		{"wisp_sessions", []string{"kind=whip"}, 1},
		{"wisp_sessions", []string{"kind=whep"}, 3},
		{"wisp_stream_viewers", []string{"stream=cam"}, 3},
		{"wisp_stream_viewers", []string{"stream=_other"}, 0},
		{"wisp_sessions_created_total", []string{"kind=whip"}, 1},
		{"wisp_sessions_created_total", []string{"kind=whep"}, 3},
	} {
		if got := sc.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	egress := sc.value(t, "wisp_egress_bytes_total", "stream=cam")
	if egress < 0.98*float64(before) || egress > 1.02*float64(after) {
		t.Errorf("wisp_egress_bytes_total{cam} = %.0f; the viewers received %d..%d bytes (want within 2 %%)", egress, before, after)
	}
	t.Logf("egress %.0f bytes; viewers received %d..%d", egress, before, after)
	if in := sc.value(t, "wisp_ingress_bytes_total", "stream=cam"); in <= 0 {
		t.Errorf("wisp_ingress_bytes_total{cam} = %v", in)
	}
	if h := sc.find("wisp_join_seconds"); h == nil || h.Histogram.GetSampleCount() != 3 || h.Histogram.GetSampleSum() <= 0 {
		t.Errorf("wisp_join_seconds: %v, want three samples", h)
	} else {
		t.Logf("join: 3 viewers, %.3f s on average", h.Histogram.GetSampleSum()/3)
	}
	for _, kind := range []string{"video", "audio"} {
		if v := sc.value(t, "wisp_egress_packets_total", "kind="+kind); v <= 0 {
			t.Errorf("wisp_egress_packets_total{%s} = %v", kind, v)
		}
	}

	if _, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true}); err == nil {
		t.Fatal("a fifth session was accepted over -max-sessions 4")
	}
	seen["whep/session_cap"]++
	if err := viewers[2].Close(); err != nil { // under the cap again: the next POSTs reach the handler
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the viewer's end", func() bool { return srv.whep.Len() == 2 })
	for i := 0; i < 100 && seen["whip/rate_limit"] == 0; i++ {
		switch st := post("/whip/junk", "", "not sdp"); st {
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			seen["whip/bad_offer"]++
		case http.StatusTooManyRequests:
			seen["whip/rate_limit"]++
		default:
			t.Fatalf("bad offer: %d", st)
		}
	}
	sc = scrapeMetrics(t, srv)
	for key, n := range seen {
		kind, reason, _ := strings.Cut(key, "/")
		if got := sc.value(t, "wisp_sessions_rejected_total", "kind="+kind, "reason="+reason); got != float64(n) {
			t.Errorf("rejected{%s,%s} = %v, want %d", kind, reason, got, n)
		}
	}
	t.Logf("refusals seen: %v", seen)
	packetsLive := sc.value(t, "wisp_egress_packets_total", "kind=video")

	// The stream ends: its series go; server-wide counters keep what they counted.
	base := countGoroutines()
	for _, v := range viewers {
		_ = v.Close()
	}
	_ = pub.Close()
	waitFor(t, 5*time.Second, "sessions to end", func() bool { return srv.whip.Len()+srv.whep.Len()+srv.registry.Len() == 0 })
	sc = scrapeMetrics(t, srv)
	for _, fam := range []string{"wisp_stream_viewers", "wisp_egress_bytes_total", "wisp_ingress_bytes_total"} {
		if labels := sc.streamLabels(fam); fmt.Sprint(labels) != "[_other]" {
			t.Errorf("%s has stream labels %v after the stream ended, want only _other", fam, labels)
		}
	}
	if sc.value(t, "wisp_streams") != 0 || sc.value(t, "wisp_sessions", "kind=whep") != 0 {
		t.Errorf("gauges after the end: streams %v, whep sessions %v", sc.value(t, "wisp_streams"), sc.value(t, "wisp_sessions", "kind=whep"))
	}
	if got := sc.value(t, "wisp_egress_packets_total", "kind=video"); got < packetsLive {
		t.Errorf("wisp_egress_packets_total{video} went down from %v to %v at the stream's end", packetsLive, got)
	}
	checkGoroutines(t, base)
}

// fakePublisher makes a stream live without media: the filler streams of the cap test.
type fakePublisher struct{}

func (fakePublisher) Close() error { return nil }

// With -metrics-streams 100 (the default), the 101st live stream has no series of its own: its
// viewers and bytes add up under stream="_other", and stay there while it lives (issue 14,
// Done-when 1). The first hundred are made live by a fake publisher each; the 101st is a real
// WHIP publisher with a real viewer.
func TestMetricsOtherStreams(t *testing.T) {
	srv := startServer(t, func(c *config) { c.Metrics, c.MetricsStreams = "127.0.0.1:0", 100 })
	for i := range 100 {
		st, err := srv.registry.Acquire(fmt.Sprintf("filler%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetPublisher(fakePublisher{}, false); err != nil {
			t.Fatal(err)
		}
		defer func() { st.ClearPublisher(fakePublisher{}); srv.registry.Release(st) }()
	}
	sc := scrapeMetrics(t, srv) // the hundred take the hundred own series
	if n := len(sc.streamLabels("wisp_stream_viewers")); n != 101 {
		t.Fatalf("%d viewer series, want 100 streams + _other", n)
	}

	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("late"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	v, err := client.View(ctx, srv.whepURL("late"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer v.Close()
	recvFrames(t, v, m, 30, 10*time.Second)
	sc = scrapeMetrics(t, srv)
	if sc.find("wisp_stream_viewers", "stream=late") != nil || sc.find("wisp_egress_bytes_total", "stream=late") != nil {
		t.Fatal("the 101st live stream has its own series")
	}
	if got := sc.value(t, "wisp_streams"); got != 101 {
		t.Errorf("wisp_streams = %v, want 101", got)
	}
	if got := sc.value(t, "wisp_stream_viewers", "stream=_other"); got != 1 {
		t.Errorf("viewers{_other} = %v, want the 101st stream's 1", got)
	}
	in, out := sc.value(t, "wisp_ingress_bytes_total", "stream=_other"), sc.value(t, "wisp_egress_bytes_total", "stream=_other")
	if in <= 0 || out <= 0 {
		t.Errorf("_other ingress %v egress %v, want the 101st stream's bytes", in, out)
	}
	if n := len(sc.streamLabels("wisp_egress_bytes_total")); n != 101 {
		t.Errorf("%d egress series, want the 100 fillers' and _other", n)
	}
}
