package main

import (
	"context"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// A viewer joining mid-GOP a publisher that ignores keyframe requests (OBS, ffmpeg) gets a
// keyframe as its very first frame, byte-identical to the publisher's, before the publisher sends
// its next one: the server replays the GOP it holds (fast start). The frames after it are the
// source's frames in order with no gap, and the viewer reaches live: its frames keep coming while
// the publisher runs.
func TestFastStartFromCachedKeyframe(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	src, err := client.OpenH264("../../testdata/media/h264-720p.h264", 30)
	if err != nil {
		t.Fatalf("open clip: %v", err)
	}
	samples := src.Samples()
	index := make(map[[32]byte]int, len(samples))
	for i, s := range samples {
		index[sha256.Sum256(s.Data)] = i
	}
	keys := src.Keyframes()
	if len(keys) != 2 || keys[0] != 0 || keys[1] != 60 {
		t.Fatalf("clip keyframes at %v, want [0 60]", keys)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pub, err := client.Publish(ctx, srv.whipURL("deaf"), client.PublishOptions{Video: src, Loop: true, HonorPLI: false})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	// Join when the publisher is 15–35 frames into a GOP: its next keyframe is ≥ 0.8 s away.
	waitFor(t, 20*time.Second, "publisher mid-GOP", func() bool {
		n := pub.Stats().VideoSamples
		return n > 60 && n%60 >= 15 && n%60 < 35
	})
	sentAtJoin := pub.Stats().VideoSamples
	v, err := client.View(ctx, srv.whepURL("deaf"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}

	var first client.Frame
	select {
	case first = <-v.Frames():
	case <-time.After(10 * time.Second):
		t.Fatalf("no frame in 10 s (stats %+v)", v.Stats().Video)
	}
	sentAtFirst := pub.Stats().VideoSamples
	i, ok := index[sha256.Sum256(first.Data)]
	switch {
	case !ok:
		t.Fatalf("first frame (%d bytes) is not a frame of the source", len(first.Data))
	case !first.Keyframe || !samples[i].Keyframe:
		t.Fatalf("first frame is sample %d, not a keyframe (stats %+v, first packets %+v)", i, v.Stats().Video, v.Packets(webrtc.RTPCodecTypeVideo)[:5])
	case nextKey(sentAtJoin) <= sentAtFirst:
		// The publisher has sent its next keyframe by now: we cannot tell fast start happened.
		t.Fatalf("first frame arrived after the publisher's next keyframe (samples sent: %d at join, %d at first frame)", sentAtJoin, sentAtFirst)
	}

	// The GOP replay and the live packets that follow form one sequence: consecutive source frames.
	want := i
	for n := 0; n < 90; n++ {
		want = (want + 1) % len(samples)
		select {
		case f := <-v.Frames():
			got, ok := index[sha256.Sum256(f.Data)]
			if !ok || got != want {
				t.Fatalf("frame %d after the keyframe is sample %d (known %v), want %d (stats %+v)", n+1, got, ok, want, v.Stats().Video)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("frame %d after the keyframe never came (stats %+v)", n+1, v.Stats().Video)
		}
	}
	st := v.Stats().Video
	if st.Lost != 0 || st.Incomplete != 0 {
		t.Errorf("lost %d packets, %d incomplete frames; want none", st.Lost, st.Incomplete)
	}
	srv.closeAll(t, base, v, pub)
}

// nextKey returns how many samples the publisher has sent when it sends the keyframe after
// sample n-1 (keyframes every 60 samples).
func nextKey(n int64) int64 { return (n/60 + 1) * 60 }
