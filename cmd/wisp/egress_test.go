package main

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// With -batch-egress, three pion viewers decode the publisher's video (60 frames each, a keyframe
// among them) and get its audio while the fan-out's SRTP leaves the media socket in sendmmsg
// batches (more than one datagram a call, none refused); everything ends back at the goroutine
// baseline (issue 16).
func TestFanOutBatchedEgress(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) { c.BatchEgress = true })
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	var viewers []*client.Viewer
	for i := 0; i < 3; i++ {
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, Audio: true})
		if err != nil {
			t.Fatalf("view %d: %v", i, err)
		}
		viewers = append(viewers, v)
	}
	for i, v := range viewers {
		if k := recvFrames(t, v, m, 60, 20*time.Second); k == 0 {
			t.Errorf("viewer %d: 60 frames without a keyframe", i)
		}
		if s := v.Stats(); s.Audio.Packets == 0 {
			t.Errorf("viewer %d: no audio", i)
		}
	}
	st := srv.media.EgressStats()
	if st.Batched == 0 || st.BatchCalls >= st.Batched || st.BatchFailures != 0 {
		t.Fatalf("egress %+v: want batched datagrams, fewer calls than datagrams, no failures", st)
	}
	t.Logf("egress: %+v", st)
	srv.closeAll(t, base, viewers[0], viewers[1], viewers[2], pub)
}
