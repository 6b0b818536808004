package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pion/webrtc/v4"
)

// TestPublish sends video, audio and data to the loopback WHIP server and checks that what it
// receives is exactly what the Source holds: each reassembled video frame equals the sample,
// byte for byte, in order, through the loop; each audio payload equals the Opus packet; data
// messages arrive in order with their text/binary kind. Close must DELETE the Location.
func TestPublish(t *testing.T) {
	for _, tc := range []struct {
		name  string
		video *Source
	}{{"h264", openH264(t)}, {"vp8", openVP8(t)}} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			l := newLoopback(t)
			audio := openOpus(t)
			ctx, cancel := context.WithTimeout(context.Background(), waitTime)
			defer cancel()
			pub, err := Publish(ctx, l.url("/whip/live"), PublishOptions{
				Video: tc.video, Audio: audio, DataChannel: "chat", Token: "secret", Loop: true,
				HTTPClient: newHTTPClient(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Kill()
			srv := l.session(t)
			if want := l.url("/session/" + srv.id); pub.Location() != want {
				t.Errorf("Location() = %q, want %q", pub.Location(), want)
			}
			if want := `"` + srv.id + `"`; pub.ETag() != want {
				t.Errorf("ETag() = %q, want %q", pub.ETag(), want)
			}
			wait(t, pub.Connected(), "publisher connected")

			// One whole pass plus the start of the next: looping restarts at sample 0.
			samples := tc.video.Samples()
			for i := range len(samples) + 5 {
				got := recv(t, srv.video, fmt.Sprintf("video frame %d", i))
				if want := samples[i%len(samples)].Data; !bytes.Equal(got, want) {
					t.Fatalf("frame %d: %d bytes %x…, want sample %d: %d bytes %x…",
						i, len(got), got[:min(8, len(got))], i%len(samples), len(want), want[:8])
				}
			}
			for i := range 60 {
				got := recv(t, srv.audio, "audio packet")
				if !bytes.Equal(got, audio.Samples()[i].Data) {
					t.Fatalf("audio packet %d differs", i)
				}
			}

			wait(t, pub.DataOpen(), "data channel open")
			sendMessages(t, pub.SendText, pub.Send, 40)
			expectMessages(t, srv.messages, "chat", 40)

			if err := pub.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := recv(t, l.deleted, "DELETE"); got != "/session/"+srv.id {
				t.Fatalf("DELETE %s, want /session/%s", got, srv.id)
			}
			wait(t, pub.Ended(), "publisher ended")
			if got := l.authHeaders(); len(got) != 1 || got[0] != "Bearer secret" {
				t.Errorf("Authorization headers %q", got)
			}
			st := pub.Stats()
			if st.VideoSamples < int64(len(samples)+5) || st.AudioSamples < 60 || st.WriteErrors != 0 {
				t.Errorf("stats %+v", st)
			}
			if srv.overflow.Load() != 0 {
				t.Errorf("test server dropped %d items", srv.overflow.Load())
			}
			if err := pub.Close(); err != nil { // idempotent
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func sendMessages(t *testing.T, text func(string) error, binary func([]byte) error, n int) {
	t.Helper()
	for i := range n {
		var err error
		if i%2 == 0 {
			err = text(fmt.Sprintf("text %d", i))
		} else {
			err = binary([]byte{byte(i), 0, 0xff})
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

func expectMessages(t *testing.T, ch <-chan Message, label string, n int) {
	t.Helper()
	for i := range n {
		m := recv(t, ch, fmt.Sprintf("message %d", i))
		want, text := []byte{byte(i), 0, 0xff}, false
		if i%2 == 0 {
			want, text = []byte(fmt.Sprintf("text %d", i)), true
		}
		if !bytes.Equal(m.Data, want) || m.Text != text || m.Label != label {
			t.Fatalf("message %d = %q text %v label %q, want %q text %v label %q", i, m.Data, m.Text, m.Label, want, text, label)
		}
	}
}

// TestPublishOnce sends a short clip once: exactly its samples are written, Finished closes, and
// the server receives those frames in order.
func TestPublishOnce(t *testing.T) {
	noLeaks(t)
	l := newLoopback(t)
	full := openH264(t)
	clip := &Source{codec: full.codec, samples: full.samples[:15]}
	pub, err := Publish(context.Background(), l.url("/whip/live"), PublishOptions{Video: clip, HTTPClient: newHTTPClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Kill()
	srv := l.session(t)
	wait(t, pub.Finished(), "finished")
	if got := pub.Stats().VideoSamples; got != 15 {
		t.Fatalf("VideoSamples = %d, want 15", got)
	}
	// pion's samplebuilder holds the last frame until the track ends, so 14 arrive first.
	for i := range 14 {
		if got := recv(t, srv.video, "frame"); !bytes.Equal(got, clip.samples[i].Data) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	wait(t, srv.readDone, "server readers done")
	if n := len(srv.video); n > 1 {
		t.Fatalf("%d frames after the clip ended", n)
	}
	if got := pub.Stats().VideoSamples; got != 15 {
		t.Fatalf("VideoSamples = %d after Close, want 15", got)
	}
}

// TestPublishHonorPLI: a PLI makes the publisher skip to the next keyframe at once.
func TestPublishHonorPLI(t *testing.T) {
	noLeaks(t)
	l := newLoopback(t)
	video := openH264(t)
	pub, err := Publish(context.Background(), l.url("/whip/live"), PublishOptions{
		Video: video, Loop: true, HonorPLI: true, HTTPClient: newHTTPClient(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Kill()
	srv := l.session(t)
	for range 5 {
		recv(t, srv.video, "frame")
	}
	if err := srv.sendPLI(); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		f := recv(t, srv.video, "frame")
		if !hasIDR(f) {
			continue
		}
		if !bytes.Equal(f, video.Samples()[30].Data) {
			t.Fatal("the keyframe after the PLI is not sample 30")
		}
		if n > 10 { // unprompted, sample 30 would come 25 frames after sample 5
			t.Fatalf("keyframe came %d frames after the PLI", n)
		}
		break
	}
	eventually(t, "one keyframe request counted", func() bool { return pub.KeyframeRequests() == 1 })
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPublishKill: Kill sends no DELETE and, with the client's own API, not one more packet, so
// the server learns of it only through ICE consent: its data channel stays open while ICE goes
// disconnected. With a caller's API, pion's close still tells the server (control case).
func TestPublishKill(t *testing.T) {
	for _, tc := range []struct {
		name   string
		silent bool
	}{{"own API", true}, {"caller API", false}} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			l := newLoopback(t)
			opt := PublishOptions{Video: openH264(t), DataChannel: "chat", Loop: true, HTTPClient: newHTTPClient(t)}
			if !tc.silent {
				api, err := NewLoopbackAPI()
				if err != nil {
					t.Fatal(err)
				}
				opt.API = api
			}
			pub, err := Publish(context.Background(), l.url("/whip/live"), opt)
			if err != nil {
				t.Fatal(err)
			}
			srv := l.session(t)
			wait(t, srv.dcOpen, "server data channel open")
			recv(t, srv.video, "first frame")
			pub.Kill()
			wait(t, pub.Ended(), "publisher ended")
			if tc.silent {
				for s := recv(t, srv.ice, "ICE state"); s != webrtc.ICEConnectionStateDisconnected; s = recv(t, srv.ice, "ICE state") {
					if s == webrtc.ICEConnectionStateFailed || s == webrtc.ICEConnectionStateClosed {
						t.Fatalf("ICE %s before disconnected", s)
					}
				}
				select {
				case <-srv.dcClosed:
					t.Fatal("server data channel closed: the killed client still said goodbye")
				default:
				}
			} else {
				wait(t, srv.dcClosed, "server data channel closed by pion's goodbye")
			}
			if err := pub.Send([]byte("late")); !errors.Is(err, ErrNotOpen) {
				t.Errorf("Send after Kill: %v, want ErrNotOpen", err)
			}
			if err := pub.Close(); err != nil {
				t.Errorf("Close after Kill: %v", err)
			}
			select {
			case p := <-l.deleted:
				t.Fatalf("DELETE %s after Kill", p)
			default:
			}
		})
	}
}
