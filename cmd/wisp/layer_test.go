package main

import (
	"context"
	"crypto/sha256"
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
)

// TestLayerSelection: the WHEP layer extension on a real simulcast stream (WHEPX-06, WHEPX-05).
// A PLI-deaf pion publisher sends rid "l" (320x240) and rid "h" (1280x720); the stream-wide choice
// forwards "h". The 201 advertises the layer URL. One viewer then, through its layer URL: pins "l"
// (its video switches to "l" at a keyframe), is refused an unknown rid (400, still on "l"),
// reverts with DELETE (back on "h"), caps maxHeight 240 (on "l"), pins "h" by Broadcast Box's
// encodingId (on "h"); with "h" pinned and stopped it falls back to "l", and takes "h" again when
// it returns. Every frame is byte-identical to its layer's source; one SSRC, consecutive sequence
// numbers throughout.
func TestLayerSelection(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	low := openMedia(t)
	high, err := client.OpenH264("../../testdata/media/h264-720p.h264", 30)
	if err != nil {
		t.Fatal(err)
	}
	highFrames := map[[32]byte]bool{}
	for _, s := range high.Samples() {
		highFrames[sha256.Sum256(s.Data)] = true
	}

	// The publisher names its layers by rid only and marks packets with the mid and rid header
	// extensions, as OBS and browsers do (TestSimulcastForwardsBestLayer).
	sp := publishSimulcast(t, srv.whipURL("sim"), low.video.Codec(), "sim", "l", "h")
	pub, trackL, trackH := sp.rawPeer, sp.tracks[0], sp.tracks[1]

	var stop, stopHigh atomic.Bool
	var wg sync.WaitGroup
	// One packetizer per layer for the whole test, so a layer that stops and returns continues
	// its sequence numbers, as an encoder's would.
	pkL := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
	pkH := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
	play := func(track *webrtc.TrackLocalStaticRTP, pk rtp.Packetizer, rid string, src *client.Source, halt *atomic.Bool) {
		defer wg.Done()
		for !stop.Load() && !halt.Load() {
			for _, s := range src.Samples() {
				if stop.Load() || halt.Load() {
					return
				}
				sp.write(track, pk, rid, s.Data)
				time.Sleep(s.Duration)
			}
		}
	}
	defer func() { stop.Store(true); _ = pub.pc.Close(); wg.Wait() }()
	sp.ignoreRTCP(t, &wg)
	wg.Add(2)
	go play(trackL, pkL, "l", low.video, &stop)
	go play(trackH, pkH, "h", high, &stopHigh)

	// WHEPX-06: the 201 advertises the layer URL, next to the events extension it needs.
	resp, _ := postSDP(t, srv.whepURL("sim"), readOffer(t, "chrome-recvonly.sdp"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("WHEP POST: %d", resp.StatusCode)
	}
	want := "<" + resp.Header.Get("Location") + `/layer>; rel="urn:ietf:params:whep:ext:core:layer"`
	if links := resp.Header.Values("Link"); !slices.Contains(links, want) {
		t.Fatalf("Links %q, want %q", links, want)
	}
	if r := do(t, http.MethodDelete, resp.Header.Get("Location"), "", nil); r.StatusCode != 200 {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := client.View(ctx, srv.whepURL("sim"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	layerURL := v.Location() + "/layer"
	choose := func(method, body string, status int) {
		t.Helper()
		r := do(t, method, layerURL, body, map[string]string{"Content-Type": "application/json"})
		if r.StatusCode != status {
			t.Fatalf("%s %s: %d %s, want %d", method, body, r.StatusCode, r.bodyText, status)
		}
	}
	// switchTo reads frames until one of want's layer arrives, which must be a keyframe, then
	// requires n more frames of that layer and none of the other. Each layer's GOP is 1 or 2 s:
	// the bound is a few GOPs.
	switchTo := func(want string, n int) {
		t.Helper()
		layer := 0
		if want == "h" {
			layer = 1
		}
		awaitSwitch(t, v.Frames(), []string{"l", "h"}, []map[[32]byte]bool{low.frames, highFrames}, layer, n, 15*time.Second)
	}
	switchTo("h", 30) // the stream-wide choice: the layer carrying the most

	choose(http.MethodPost, `{"rid":"l"}`, 200)
	switchTo("l", 30)
	choose(http.MethodPost, `{"rid":"x"}`, 400) // unknown rid: refused, the pin stays
	switchTo("l", 30)
	choose(http.MethodDelete, "", 200) // Medooze's revert: the stream-wide choice again
	switchTo("h", 30)
	choose(http.MethodPost, `{"mediaId":"0","maxHeight":240}`, 200)
	switchTo("l", 30)
	choose(http.MethodPost, `{"mediaId":"0","encodingId":"h"}`, 200) // Broadcast Box's pin
	switchTo("h", 30)
	stopHigh.Store(true) // the pinned layer stops: fall back
	switchTo("l", 30)
	stopHigh.Store(false)
	wg.Add(1)
	go play(trackH, pkH, "h", high, &stopHigh) // it returns: the pin holds again
	switchTo("h", 30)

	recs := v.Packets(webrtc.RTPCodecTypeVideo)
	for i := 1; i < len(recs); i++ {
		if recs[i].SSRC != recs[0].SSRC || recs[i].SequenceNumber != recs[i-1].SequenceNumber+1 {
			t.Fatalf("record %d: ssrc %x seq %d after ssrc %x seq %d", i, recs[i].SSRC, recs[i].SequenceNumber, recs[i-1].SSRC, recs[i-1].SequenceNumber)
		}
	}
	if st := v.Stats().Video; st.Tracks != 1 || st.Lost != 0 {
		t.Fatalf("viewer video stats %+v", st)
	}
	if d := do(t, "DELETE", pub.loc, "", nil); d.StatusCode != 200 {
		t.Fatalf("DELETE publisher: %d", d.StatusCode)
	}
	stop.Store(true)
	_ = pub.pc.Close() // ends the RTCP reader
	wg.Wait()
	srv.closeAll(t, base, v)
}
