package stream

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/datarelay"
)

// fakePublisher is a Publisher that only records Close.
type fakePublisher struct{ closed int }

func (f *fakePublisher) Close() error { f.closed++; return nil }

// TestPublisherSlot: SetPublisher replaces (returning the old one for the caller to close) or
// refuses with ErrPublisherLive (WHIP-06); IsPublisher is true only for the current publisher, so
// a replaced publisher's late readers can tell they no longer own the tracks; ClearPublisher
// clears only its own slot.
func TestPublisherSlot(t *testing.T) {
	s := newStream("cam", datarelay.Config{})
	defer s.relay.Close()
	a, b := &fakePublisher{}, &fakePublisher{}
	if old, err := s.SetPublisher(a, true); old != nil || err != nil {
		t.Fatalf("first SetPublisher: %v, %v", old, err)
	}
	if !s.IsPublisher(a) || s.IsPublisher(b) {
		t.Fatal("IsPublisher after the first SetPublisher")
	}
	if _, err := s.SetPublisher(b, false); !errors.Is(err, ErrPublisherLive) || !s.IsPublisher(a) {
		t.Fatalf("SetPublisher without replace: %v; a still publisher %v", err, s.IsPublisher(a))
	}
	if old, err := s.SetPublisher(b, true); old != a || err != nil {
		t.Fatalf("replacing SetPublisher: %v, %v", old, err)
	}
	if s.IsPublisher(a) || !s.IsPublisher(b) {
		t.Fatal("IsPublisher after the replacement")
	}
	if s.ClearPublisher(a) || !s.IsPublisher(b) {
		t.Fatal("the replaced publisher cleared its successor")
	}
	if !s.ClearPublisher(b) || s.IsPublisher(b) {
		t.Fatal("ClearPublisher of the current publisher")
	}
}

// TestIdleStreamMemory: what the core keeps for a stream with a publisher and no viewers, 20 of
// them fed 12 s of H.264 at 2.7 Mbit/s (30 fps, a keyframe every 2 s) and Opus at media pace:
// at most 1 MB of heap each, measured at the end of a GOP, when a ring holds the most (the GOP of
// video, the last second of audio, the Stream, Tracks, Feeds and relay). The RSS figure with real PeerConnections, beside
// MediaMTX, is in docs/benchmarks.md.
func TestIdleStreamMemory(t *testing.T) {
	const streams = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // twice: chunks earlier tests returned to the ring pool go (sync.Pool)
	runtime.ReadMemStats(&before)
	kept := make([]*Stream, streams)
	for i := range kept {
		s := newStream(fmt.Sprint("idle", i), datarelay.Config{})
		pub := &fakePublisher{}
		if _, err := s.SetPublisher(pub, true); err != nil {
			t.Fatal(err)
		}
		video, _ := s.NewFeed(FeedConfig{Kind: webrtc.RTPCodecTypeVideo, Codec: h264Codec})
		audio, _ := s.NewFeed(FeedConfig{Kind: webrtc.RTPCodecTypeAudio,
			Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}}})
		s.Follow(pub, video)
		s.Follow(pub, audio)
		vp := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: make([]byte, 1200)}
		ap := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: make([]byte, 160)}
		frameBytes := 2_700_000 / 8 / 30
		for f := range 12 * 30 {
			at := int64(f) * int64(time.Second) / 30
			size := frameBytes
			key := f%60 == 0
			if key {
				size *= 4
			}
			for first := true; size > 0; first = false {
				n := min(size, 1200)
				size -= n
				vp.Payload = vp.Payload[:n]
				vp.Payload[0], vp.Payload[1] = 0x7c, 0x01 // FU-A, delta
				if key && first {
					vp.Payload[1] = 0x85 // FU-A start of an IDR
				}
				vp.Marker = size == 0
				if err := video.writeAt(vp, at); err != nil {
					t.Fatal(err)
				}
				vp.SequenceNumber++
			}
			vp.Timestamp += 3000
			for range 5*f/3 - 5*(f-1)/3 { // 50 Opus packets a second
				if err := audio.writeAt(ap, at); err != nil {
					t.Fatal(err)
				}
				ap.SequenceNumber++
				ap.Timestamp += 960
			}
		}
		kept[i] = s
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / streams
	t.Logf("heap per idle stream: %.0f KB", per/1024)
	if per > 1e6 {
		t.Fatalf("heap per idle stream %.0f KB, want at most 1 MB", per/1024)
	}
	for _, s := range kept {
		s.relay.Close()
	}
}
