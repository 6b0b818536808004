package main

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// A viewer that arrives before the publisher is accepted and gets media once the publisher starts
// (WHEP-04, the accept-and-wait policy).
func TestViewerBeforePublisher(t *testing.T) {
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	v, err := client.View(ctx, srv.whepURL("early"), client.ViewOptions{Video: true, Audio: true})
	if err != nil {
		t.Fatalf("view before publisher: %v", err)
	}
	defer v.Close()
	select {
	case <-v.Connected():
	case <-ctx.Done():
		t.Fatal("viewer never connected")
	}
	if info := srv.registry.List(); len(info) != 1 || info[0].Live || info[0].Viewers != 1 {
		t.Fatalf("registry before publishing = %+v, want one idle stream with 1 viewer", info)
	}
	pub, err := client.Publish(ctx, srv.whipURL("early"), client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	if k := recvFrames(t, v, m, 60, 20*time.Second); k == 0 {
		t.Error("no keyframe in 60 frames")
	}
	waitFor(t, 10*time.Second, "audio", func() bool { return v.Stats().Audio.Packets >= 50 })
}

// The publisher drops (killed without DELETE, or DELETEd) and a new one publishes the same
// stream: the connected viewer resumes video and audio on its existing connection, with one SSRC
// and unbroken sequence numbers, and timestamps that advance by about the wall-clock gap
// (WHIP-06 replace-on-reconnect; architecture "Publisher restart").
func TestPublisherRestartContinuity(t *testing.T) {
	for _, mode := range []string{"kill", "delete"} {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, nil)
			m := openMedia(t)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()

			v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, Audio: true, DataChannel: "data"})
			if err != nil {
				t.Fatalf("view: %v", err)
			}
			defer v.Close()
			pub1, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true})
			if err != nil {
				t.Fatalf("publish 1: %v", err)
			}
			recvFrames(t, v, m, 45, 20*time.Second)

			if mode == "kill" {
				pub1.Kill()
			} else if err := pub1.Close(); err != nil {
				t.Fatalf("publisher 1 DELETE: %v", err)
			}
			before := len(v.Packets(webrtc.RTPCodecTypeVideo))

			pub2, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{
				Video: m.video, Audio: m.audio, Loop: true, DataChannel: "data"})
			if err != nil {
				t.Fatalf("publish 2: %v", err)
			}
			defer pub2.Close()
			// Drain frames of publisher 1 still queued, then wait for 45 frames of publisher 2.
			waitFor(t, 20*time.Second, "video from publisher 2", func() bool {
				return len(v.Packets(webrtc.RTPCodecTypeVideo)) > before
			})
			if k := recvFrames(t, v, m, 90, 30*time.Second); k == 0 {
				t.Error("no keyframe after the restart")
			}
			if v.State() != webrtc.PeerConnectionStateConnected {
				t.Fatalf("viewer state %v: it should have stayed connected", v.State())
			}
			stats := v.Stats()
			t.Logf("restart (%s): viewer video stats %+v", mode, stats.Video)
			checkContinuity(t, "video", v.Packets(webrtc.RTPCodecTypeVideo), 90000)
			checkContinuity(t, "audio", v.Packets(webrtc.RTPCodecTypeAudio), 48000)

			// The relay outlives publishers: publisher 2's messages reach the same viewer.
			st, _ := srv.registry.Get("cam")
			waitFor(t, 10*time.Second, "viewer data subscription", func() bool { return st.Relay().Stats().Subscribers == 1 })
			<-pub2.DataOpen()
			if err := pub2.SendText("after restart"); err != nil {
				t.Fatalf("send: %v", err)
			}
			select {
			case msg := <-v.Messages():
				if string(msg.Data) != "after restart" {
					t.Fatalf("message %q", msg.Data)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no message after restart")
			}
		})
	}
}

// checkContinuity asserts one SSRC, sequence numbers that each advance by exactly one, and
// timestamps that never go back. The restart is the largest timestamp step (a delivery stall on a
// loaded machine delays arrivals but cannot change timestamps, which the publisher sets); there the
// timestamp must advance by about the arrival gap, so the player's clock neither jumps nor stalls.
func checkContinuity(t *testing.T, kind string, recs []client.PacketRecord, clock float64) {
	t.Helper()
	if len(recs) < 100 {
		t.Fatalf("%s: only %d packets recorded", kind, len(recs))
	}
	var maxStep uint32
	restart := 0
	for i := 1; i < len(recs); i++ {
		prev, cur := recs[i-1], recs[i]
		if cur.SSRC != prev.SSRC {
			t.Fatalf("%s: SSRC changed at packet %d: %x → %x", kind, i, prev.SSRC, cur.SSRC)
		}
		if cur.SequenceNumber != prev.SequenceNumber+1 {
			t.Fatalf("%s: sequence %d → %d at packet %d", kind, prev.SequenceNumber, cur.SequenceNumber, i)
		}
		step := cur.Timestamp - prev.Timestamp
		if int32(step) < 0 {
			t.Fatalf("%s: timestamp went back %d → %d at packet %d", kind, prev.Timestamp, cur.Timestamp, i)
		}
		if step > maxStep {
			maxStep, restart = step, i
		}
	}
	gap := recs[restart].At.Sub(recs[restart-1].At)
	advance := time.Duration(float64(maxStep) / clock * float64(time.Second))
	if d := advance - gap; d > time.Second || d < -time.Second {
		t.Errorf("%s: at the restart (packet %d), arrival gap %v but timestamp advance %v", kind, restart, gap, advance)
	}
	t.Logf("%s: %d packets continuous; at the restart arrival gap %v, timestamp advance %v", kind, len(recs), gap, advance)
}
