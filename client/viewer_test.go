package client

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/pion/webrtc/v4"
)

// TestView receives from the loopback WHEP server, which sends its sources from the first sample
// once connected: the viewer must reassemble at least 60 frames equal to the samples, in order,
// keyframes flagged, with continuous sequence numbers and timestamps; audio packets equal the
// Opus packets; data channel messages from the server arrive in order. Close must DELETE.
func TestView(t *testing.T) {
	for _, tc := range []struct {
		name  string
		video *Source
		audio bool
	}{{"h264+opus", openH264(t), true}, {"vp8", openVP8(t), false}} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			l := newLoopback(t)
			l.video = tc.video
			var audio *Source
			if tc.audio {
				audio = openOpus(t)
				l.audio = audio
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitTime)
			defer cancel()
			v, err := View(ctx, l.url("/whep/live"), ViewOptions{
				Video: true, Audio: tc.audio, DataChannel: "chat", Token: "secret", HTTPClient: newHTTPClient(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Kill()
			srv := l.session(t)
			wait(t, v.Connected(), "viewer connected")

			const n = 60
			samples := tc.video.Samples()
			var frames []Frame
			for i := range n {
				f := recvFrame(t, v, srv, fmt.Sprintf("frame %d", i))
				if want := samples[i]; !bytes.Equal(f.Data, want.Data) || f.Keyframe != want.Keyframe {
					t.Fatalf("frame %d: %d bytes key %v, want %d bytes key %v", i, len(f.Data), f.Keyframe, len(want.Data), want.Keyframe)
				}
				if i > 0 {
					if d := f.Timestamp - frames[i-1].Timestamp; d < 2999 || d > 3001 {
						t.Fatalf("frame %d: timestamp step %d, want 3000 (30 fps at 90 kHz)", i, d)
					}
					if f.At.Before(frames[i-1].At) {
						t.Fatalf("frame %d arrived before frame %d", i, i-1)
					}
				}
				frames = append(frames, f)
			}
			checkPackets(t, v.Packets(webrtc.RTPCodecTypeVideo), 90000/30+1)

			if tc.audio {
				for i := range 50 {
					a := recv(t, v.AudioPackets(), "audio packet")
					if !bytes.Equal(a.Data, audio.Samples()[i].Data) {
						t.Fatalf("audio packet %d differs", i)
					}
				}
				checkPackets(t, v.Packets(webrtc.RTPCodecTypeAudio), 960)
			}

			wait(t, srv.dcOpen, "server data channel open")
			dc := srv.dc.Load()
			sendMessages(t, dc.SendText, dc.Send, 20)
			expectMessages(t, v.Messages(), "chat", 20)

			st := v.Stats()
			vs := st.Video
			if vs.Frames < n || vs.Keyframes < 2 || vs.Lost != 0 || vs.Late != 0 || vs.Incomplete != 0 ||
				vs.Dropped != 0 || vs.Tracks != 1 || vs.Codec != tc.video.Codec().MimeType {
				t.Errorf("video stats %+v", vs)
			}
			if vs.FirstPacket.IsZero() || vs.FirstKeyframe.Before(vs.FirstPacket) || vs.Bytes == 0 {
				t.Errorf("video times/bytes %+v", vs)
			}
			if tc.audio && (st.Audio.Packets < 50 || st.Audio.Lost != 0 || st.Audio.Codec != webrtc.MimeTypeOpus) {
				t.Errorf("audio stats %+v", st.Audio)
			}
			if st.Messages != 20 || st.MessagesDropped != 0 {
				t.Errorf("messages %d dropped %d", st.Messages, st.MessagesDropped)
			}

			if err := v.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := recv(t, l.deleted, "DELETE"); got != "/session/"+srv.id {
				t.Fatalf("DELETE %s, want /session/%s", got, srv.id)
			}
			wait(t, v.Ended(), "viewer ended")
			if got := l.authHeaders(); len(got) != 1 || got[0] != "Bearer secret" {
				t.Errorf("Authorization headers %q", got)
			}
		})
	}
}

// checkPackets checks a continuity record: one SSRC and payload type, consecutive sequence
// numbers, timestamps that never go back nor jump more than maxStep, arrival times in order.
func checkPackets(t *testing.T, recs []PacketRecord, maxStep uint32) {
	t.Helper()
	if len(recs) < 20 {
		t.Fatalf("%d packet records", len(recs))
	}
	first := recs[0]
	markers := 0
	for i, r := range recs {
		if r.Marker {
			markers++
		}
		if i == 0 {
			continue
		}
		prev := recs[i-1]
		switch {
		case r.SSRC != first.SSRC || r.PayloadType != first.PayloadType:
			t.Fatalf("record %d: ssrc %x pt %d, first %x pt %d", i, r.SSRC, r.PayloadType, first.SSRC, first.PayloadType)
		case r.SequenceNumber != prev.SequenceNumber+1:
			t.Fatalf("record %d: seq %d after %d", i, r.SequenceNumber, prev.SequenceNumber)
		case r.Timestamp-prev.Timestamp > maxStep:
			t.Fatalf("record %d: timestamp %d after %d", i, r.Timestamp, prev.Timestamp)
		case r.At.Before(prev.At):
			t.Fatalf("record %d arrived before %d", i, i-1)
		}
	}
	if markers == 0 {
		t.Fatal("no marker bits")
	}
}

// TestViewPLIOnStart: the viewer sends a PLI only when asked to.
func TestViewPLIOnStart(t *testing.T) {
	for _, pli := range []bool{false, true} {
		t.Run(fmt.Sprint("PLIOnStart=", pli), func(t *testing.T) {
			noLeaks(t)
			l := newLoopback(t)
			l.video = openVP8(t)
			v, err := View(context.Background(), l.url("/whep/live"), ViewOptions{
				Video: true, PLIOnStart: pli, HTTPClient: newHTTPClient(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Kill()
			srv := l.session(t)
			for range 10 {
				recvFrame(t, v, srv, "frame")
			}
			if pli {
				eventually(t, "a PLI at the server", func() bool { return srv.plis.Load() == 1 })
			} else if n := srv.plis.Load(); n != 0 {
				t.Fatalf("server got %d PLIs", n)
			}
			if err := v.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestViewSlowReader: a reader that never drains Frames costs frames, counted, never the read
// loop: packets keep being recorded.
func TestViewSlowReader(t *testing.T) {
	noLeaks(t)
	l := newLoopback(t)
	video := openH264(t)
	l.video = video
	v, err := View(context.Background(), l.url("/whep/live"), ViewOptions{Video: true, HTTPClient: newHTTPClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Kill()
	// Stand in for a reader that never reads: fill the channel.
	for full := false; !full; {
		select {
		case v.frames <- Frame{}:
		default:
			full = true
		}
	}
	eventually(t, "dropped frames", func() bool { return v.Stats().Video.Dropped >= 3 })
	before := v.Stats().Video.Packets
	eventually(t, "packets still read", func() bool { return v.Stats().Video.Packets > before })
	if st := v.Stats().Video; st.Frames < st.Dropped || st.Incomplete != 0 || st.Lost != 0 {
		t.Errorf("frames %d dropped %d", st.Frames, st.Dropped)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
}
