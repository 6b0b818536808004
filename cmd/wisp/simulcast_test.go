package main

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// TestSimulcastForwardsBestLayer: a pion publisher sends two simulcast layers, rid "l" (320x240,
// about 0.2 Mbit/s, keyframe every 1 s) and rid "h" (720p, about 2.8 Mbit/s, keyframe every 2 s),
// and ignores keyframe requests. The viewer ends up on "h", switched at one of its keyframes;
// when "h" stops (a browser drops its top layer under congestion) the viewer is back on "l", again
// at a keyframe. Across both switches the viewer sees one SSRC and consecutive sequence numbers
// (WHIP-03, COMMON-01).
func TestSimulcastForwardsBestLayer(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) { c.LogLevel = slog.LevelDebug })
	low := openMedia(t)
	high, err := client.OpenH264("../../testdata/media/h264-720p.h264", 30)
	if err != nil {
		t.Fatal(err)
	}
	highFrames := map[[32]byte]bool{}
	for _, s := range high.Samples() {
		highFrames[sha256.Sum256(s.Data)] = true
	}

	// Like OBS and browsers, the publisher names its layers by RID only (no a=ssrc lines, as in
	// testdata/offers/obs-simulcast.sdp) and marks each packet with the mid and rid header
	// extensions; pion's sender adds neither, so the layers are packetized here.
	sp := publishSimulcast(t, srv.whipURL("sim"), low.video.Codec(), "sim", "l", "h")
	pub, trackL, trackH := sp.rawPeer, sp.tracks[0], sp.tracks[1]

	var stop, stopHigh atomic.Bool
	var wg sync.WaitGroup
	play := func(track *webrtc.TrackLocalStaticRTP, rid string, src *client.Source, halt *atomic.Bool) {
		defer wg.Done()
		pk := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
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
	// The low layer starts first, at a keyframe, once the connection is up (packets written before
	// that are lost); the high one starts once the viewer plays the low one, so the test sees the
	// switch up.
	wg.Add(1)
	go play(trackL, "l", low.video, &stop)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := client.View(ctx, srv.whepURL("sim"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	// switchTo reads frames until one of want's layer arrives, which must be a keyframe, then
	// requires n more frames of that layer.
	switchTo := func(want string, n int, d time.Duration) {
		t.Helper()
		layer := 0
		if want == "h" {
			layer = 1
		}
		awaitSwitch(t, v.Frames(), []string{"l", "h"}, []map[[32]byte]bool{low.frames, highFrames}, layer, n, d)
	}
	select {
	case f := <-v.Frames():
		if !low.frames[sha256.Sum256(f.Data)] || !f.Keyframe {
			t.Fatalf("first frame: %d bytes, keyframe %v; want a keyframe of layer \"l\"", len(f.Data), f.Keyframe)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no frame of layer \"l\"")
	}
	wg.Add(1)
	go play(trackH, "h", high, &stopHigh)
	switchTo("h", 60, 15*time.Second)
	stopHigh.Store(true)
	switchTo("l", 30, 15*time.Second)

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
