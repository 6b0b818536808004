package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
	"github.com/wisp-media/wisp/stream"
)

// TestStreamsListLayerViewers (issue 12: /api/streams lists each stream's layers and how many
// viewers are on each; WHEPX-06 pins): a PLI-deaf pion publisher sends three H.264 layers, "l"
// 320x240, "m" 640x360, "h" 1280x720. Four pion viewers: two pin "l" through their layer URL, one
// pins "m", one keeps the stream-wide choice (the layer carrying the most bits, "h"; -auto-layers
// off), each pinning once it receives at the media's pace (after its fast start). Once each
// viewer receives its layer's frames (byte-identical to that layer's source), GET /api/streams
// lists the three layers highest first with their measured sizes and the viewers on each: h 1,
// m 1, l 2. One "l" viewer then reverts (DELETE): once its frames are "h"'s, the counts are h 2,
// m 1, l 1.
func TestStreamsListLayerViewers(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) { c.AutoLayers = false })

	names := []string{"l", "m", "h"}
	var srcs []*client.Source
	var sets []map[[32]byte]bool
	for _, file := range []string{"h264.h264", "h264-360p.h264", "h264-720p.h264"} {
		s, err := client.OpenH264("../../testdata/media/"+file, 30)
		if err != nil {
			t.Fatal(err)
		}
		set := map[[32]byte]bool{}
		for _, f := range s.Samples() {
			set[sha256.Sum256(f.Data)] = true
		}
		srcs, sets = append(srcs, s), append(sets, set)
	}

	sp := publishSimulcast(t, srv.whipURL("counts"), srcs[0].Codec(), "counts", names...)
	pub, tracks := sp.rawPeer, sp.tracks
	var stop atomic.Bool
	var wg sync.WaitGroup
	play := func(track *webrtc.TrackLocalStaticRTP, rid string, src *client.Source) {
		defer wg.Done()
		pk := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
		next := time.Now()
		for !stop.Load() {
			for _, s := range src.Samples() {
				if stop.Load() {
					return
				}
				sp.write(track, pk, rid, s.Data)
				next = next.Add(s.Duration)
				time.Sleep(time.Until(next))
			}
		}
	}
	defer func() { stop.Store(true); _ = pub.pc.Close(); wg.Wait() }()
	sp.ignoreRTCP(t, &wg)
	for i := range tracks {
		wg.Add(1)
		go play(tracks[i], names[i], srcs[i])
	}
	waitFor(t, 10*time.Second, "three layers", func() bool {
		st, ok := srv.registry.Get("counts")
		return ok && len(st.Track(webrtc.RTPCodecTypeVideo).Feeds()) == 3
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pins := []string{"l", "l", "m", ""}
	viewers := make([]*client.Viewer, len(pins))
	for i := range pins {
		v, err := client.View(ctx, srv.whepURL("counts"), client.ViewOptions{Video: true})
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		defer v.Close()
		viewers[i] = v
	}
	// settle reads viewer i's frames until five in a row come at the media's pace (30 fps), after
	// its fast start's burst of the cached GOP: a pin made during that burst may find the target's
	// keyframe among the packets a loaded loopback drops.
	settle := func(i int) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		var last time.Time
		for paced := 0; paced < 5; {
			select {
			case f := <-viewers[i].Frames():
				if !last.IsZero() && f.At.Sub(last) >= 15*time.Millisecond {
					paced++
				} else {
					paced = 0
				}
				last = f.At
			case <-deadline:
				t.Fatalf("viewer %d: no frames at the media's pace within 15 s", i)
			}
		}
	}
	for i, pin := range pins {
		settle(i)
		if pin != "" {
			chooseLayerHTTP(t, viewers[i], http.MethodPost, `{"mediaId":"0","rid":"`+pin+`"}`)
		}
	}
	// onLayer reads viewer i's frames until one of layer want arrives, then 10 more, all of that
	// layer. Every frame must be one of a layer's. (That a switch starts at a keyframe is
	// TestLayerSelection's.) The layers' GOPs are 1 s (l, m) and 2 s (h): the bound is a few.
	onLayer := func(i int, want string) {
		t.Helper()
		w := slices.Index(names, want)
		deadline := time.After(15 * time.Second)
		for on := -1; on < 10; {
			select {
			case f := <-viewers[i].Frames():
				h := sha256.Sum256(f.Data)
				l := slices.IndexFunc(sets, func(s map[[32]byte]bool) bool { return s[h] })
				switch {
				case l < 0:
					t.Fatalf("viewer %d: a frame (%d bytes) of no layer", i, len(f.Data))
				case on < 0 && l == w:
					on = 0
				case on >= 0 && l != w:
					t.Fatalf("viewer %d: a frame of layer %q after %d of %q", i, names[l], on, want)
				case on >= 0:
					on++
				}
			case <-deadline:
				t.Fatalf("viewer %d: not on layer %q within 15 s", i, want)
			}
		}
	}
	for i, want := range []string{"l", "l", "m", "h"} {
		onLayer(i, want)
	}
	// An output's Feed changes before it sends the new layer's first packet: a viewer that has
	// the layer's frames is counted on it, and no viewer moves while the pins hold.
	checkLayers(t, srv, "counts", map[string]int{"h": 1, "m": 1, "l": 2})

	chooseLayerHTTP(t, viewers[1], http.MethodDelete, "") // back to the stream-wide choice
	onLayer(1, "h")
	checkLayers(t, srv, "counts", map[string]int{"h": 2, "m": 1, "l": 1})

	if d := do(t, "DELETE", pub.loc, "", nil); d.StatusCode != 200 {
		t.Fatalf("DELETE publisher: %d", d.StatusCode)
	}
	stop.Store(true)
	_ = pub.pc.Close() // ends the RTCP reader
	wg.Wait()
	closers := make([]closer, len(viewers))
	for i, v := range viewers {
		closers[i] = v
	}
	srv.closeAll(t, base, closers...)
}

// chooseLayerHTTP sends a layer request (WHEPX-06) to viewer v's layer URL and requires 200.
func chooseLayerHTTP(t *testing.T, v *client.Viewer, method, body string) {
	t.Helper()
	r := do(t, method, v.Location()+"/layer", body, map[string]string{"Content-Type": "application/json"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, body, r.StatusCode, r.bodyText)
	}
}

// checkLayers reads GET /api/streams and requires the stream's layers, highest first, to be h
// 1280x720, m 640x360 and l 320x240 (their sources' sizes, measured from their keyframes), all
// active, with the given viewer counts.
func checkLayers(t *testing.T, srv *testServer, name string, viewers map[string]int) {
	t.Helper()
	resp, err := http.Get(srv.base + "/api/streams")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Streams []stream.Info `json:"streams"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(body.Streams, func(s stream.Info) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("/api/streams has no stream %q: %+v", name, body.Streams)
	}
	got := body.Streams[i].Layers
	want := []stream.LayerInfo{{RID: "h", Width: 1280, Height: 720}, {RID: "m", Width: 640, Height: 360}, {RID: "l", Width: 320, Height: 240}}
	if len(got) != len(want) {
		t.Fatalf("layers %+v, want h, m, l", got)
	}
	for j, w := range want {
		g := got[j]
		if g.RID != w.RID || g.Width != w.Width || g.Height != w.Height || !g.Active || g.Bitrate <= 0 || g.Viewers != viewers[w.RID] {
			t.Fatalf("layer %d = %+v, want %s %dx%d active with a bitrate and %d viewers (all: %+v)", j, g, w.RID, w.Width, w.Height, viewers[w.RID], got)
		}
	}
}
