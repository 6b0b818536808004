package whep

import (
	"log/slog"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/stream"
)

var testH264 = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}}

// testStream returns a stream of a fresh registry, released at the end of the test.
func testStream(t *testing.T) *stream.Stream {
	t.Helper()
	reg := stream.NewRegistry(stream.RegistryConfig{})
	st, err := reg.Acquire("live")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Release(st) })
	return st
}

func addFeed(t *testing.T, st *stream.Stream, rid string, ssrc uint32) *stream.Feed {
	t.Helper()
	f, err := st.NewFeed(stream.FeedConfig{Kind: webrtc.RTPCodecTypeVideo, RID: rid, SSRC: ssrc, Codec: testH264})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A pull is layered only when the stream has two or more live video layers with distinct,
// non-empty rids and the pull offered more than one section; it carries at most one layer per
// section.
func TestSimulcastFeeds(t *testing.T) {
	st := testStream(t)
	video := st.Track(webrtc.RTPCodecTypeVideo)
	l := addFeed(t, st, "l", 1)
	if got := simulcastFeeds(video.Feeds(), 4); got != nil {
		t.Fatalf("one layer: %d feeds, want none (a pull of one section)", len(got))
	}
	addFeed(t, st, "m", 2)
	h := addFeed(t, st, "h", 3)
	if got := simulcastFeeds(video.Feeds(), 4); len(got) != 3 {
		t.Fatalf("three layers, four sections: %d feeds", len(got))
	}
	if got := simulcastFeeds(video.Feeds(), 2); len(got) != 2 {
		t.Fatalf("three layers, two sections: %d feeds", len(got))
	}
	if got := simulcastFeeds(video.Feeds(), 1); got != nil {
		t.Fatal("one section offered: layered anyway")
	}
	h.Close()
	l.Close()
	if got := simulcastFeeds(video.Feeds(), 4); got != nil {
		t.Fatal("one live layer left: layered anyway")
	}
	addFeed(t, st, "m", 4)
	if got := simulcastFeeds(video.Feeds(), 4); got != nil {
		t.Fatal("two layers with one rid: layered anyway")
	}

	plain := testStream(t)
	addFeed(t, plain, "", 1)
	addFeed(t, plain, "x", 2)
	if got := simulcastFeeds(plain.Track(webrtc.RTPCodecTypeVideo).Feeds(), 4); got != nil {
		t.Fatal("a layer without a rid: layered anyway")
	}
}

// The owner ends a pull when the stream's layers no longer match its answer: a pull of one
// section that could take layers once the stream is simulcast, a layered pull when a layer it
// has room for appears or the stream has a single layer again; not while they match.
func TestPullChanged(t *testing.T) {
	viewer := func(st *stream.Stream, sections int, rids ...string) *Viewer {
		v := &Viewer{stream: st, pull: true, pullSections: sections, log: slog.New(slog.DiscardHandler)}
		for _, f := range st.Track(webrtc.RTPCodecTypeVideo).Feeds() {
			for _, rid := range rids {
				if f.RID() == rid {
					v.pullLayers = append(v.pullLayers, pullLayer{rid: rid, ssrc: f.SSRC(), feed: f})
				}
			}
		}
		return v
	}

	st := testStream(t)
	addFeed(t, st, "l", 1)
	one := viewer(st, 4)
	if why := one.pullChanged(); why != "" {
		t.Fatalf("one layer, pull of one section: %q", why)
	}
	addFeed(t, st, "h", 2)
	if why := one.pullChanged(); why == "" {
		t.Fatal("the stream became simulcast: the pull of one section goes on")
	}
	if why := viewer(st, 1).pullChanged(); why != "" {
		t.Fatalf("a puller that offered one section is never ended: %q", why)
	}

	layered := viewer(st, 4, "l", "h")
	if why := layered.pullChanged(); why != "" {
		t.Fatalf("layers as answered: %q", why)
	}
	addFeed(t, st, "m", 3)
	if why := layered.pullChanged(); why == "" {
		t.Fatal("a new layer m: the layered pull goes on")
	}
	if why := viewer(st, 2, "l", "h").pullChanged(); why != "" {
		t.Fatalf("a new layer with no section left for it: %q", why)
	}

	single := testStream(t)
	l := addFeed(t, single, "l", 1)
	addFeed(t, single, "h", 2)
	v := viewer(single, 4, "l", "h")
	for _, f := range single.Track(webrtc.RTPCodecTypeVideo).Feeds() {
		f.Close() // the publisher went away
	}
	if why := v.pullChanged(); why != "" || !l.Closed() {
		t.Fatalf("no layer at all (publisher gone): %q", why)
	}
	addFeed(t, single, "", 3) // a single-layer publisher took over
	if why := v.pullChanged(); why == "" {
		t.Fatal("the stream has a single layer now: the layered pull goes on")
	}
}
