package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// Three viewers each receive the publisher's H.264 frames byte for byte, its Opus audio, and
// every data-channel message (text and binary) in order (COMMON-01, WHIP-01, WHEP-01, WHEP-08).
func TestFanOutThreeViewers(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{
		Video: m.video, Audio: m.audio, DataChannel: "data", Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	var viewers []*client.Viewer
	var joined []time.Time
	for i := 0; i < 3; i++ {
		joined = append(joined, time.Now())
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, Audio: true, DataChannel: "data"})
		if err != nil {
			t.Fatalf("view %d: %v", i, err)
		}
		viewers = append(viewers, v)
	}
	for i, v := range viewers {
		if k := recvFrames(t, v, m, 60, 20*time.Second); k == 0 {
			t.Errorf("viewer %d: 60 frames without a keyframe", i)
		}
		// Measured, not asserted (speed is measured by the load tool): POST → first keyframe.
		t.Logf("viewer %d: POST → first keyframe %v", i, v.Stats().Video.FirstKeyframe.Sub(joined[i]).Round(time.Millisecond))
	}

	// Data: wait until the three viewer channels are subscribed, then send.
	st, ok := srv.registry.Get("cam")
	if !ok {
		t.Fatal("stream cam not in registry")
	}
	// The fan-out counters of /api/streams: packets went out, and on loopback with three viewers
	// no worker fell behind.
	if info := st.Info(); info.VideoPackets == 0 || info.Dropped != 0 {
		t.Fatalf("video packets %d, dropped %d; want > 0 and 0", info.VideoPackets, info.Dropped)
	}
	waitFor(t, 10*time.Second, "3 relay subscribers", func() bool { return st.Relay().Stats().Subscribers == 3 })
	<-pub.DataOpen()
	var sent []client.Message
	for i := 0; i < 20; i++ {
		if i%2 == 0 {
			s := fmt.Sprintf("hello %d", i)
			if err := pub.SendText(s); err != nil {
				t.Fatalf("send text: %v", err)
			}
			sent = append(sent, client.Message{Data: []byte(s), Text: true})
		} else {
			b := bytes.Repeat([]byte{byte(i)}, 1000*i)
			if err := pub.Send(b); err != nil {
				t.Fatalf("send binary: %v", err)
			}
			sent = append(sent, client.Message{Data: b})
		}
	}
	for i, v := range viewers {
		for j, want := range sent {
			select {
			case got := <-v.Messages():
				if got.Text != want.Text || !bytes.Equal(got.Data, want.Data) || got.Label != "data" {
					t.Fatalf("viewer %d message %d: got text=%v %d bytes on %q, want text=%v %d bytes", i, j, got.Text, len(got.Data), got.Label, want.Text, len(want.Data))
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("viewer %d: got %d of %d messages", i, j, len(sent))
			}
		}
		if s := v.Stats(); s.Audio.Packets < 50 {
			t.Errorf("viewer %d: %d audio packets, want ≥ 50", i, s.Audio.Packets)
		}
	}

	srv.closeAll(t, base, viewers[0], viewers[1], viewers[2], pub)
}
