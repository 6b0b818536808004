package stream

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// A viewer bound by pion (inside SetLocalDescription, before ICE and DTLS) gets nothing until its
// session calls Start: pion would drop those writes and a fast-start keyframe would be lost. After
// Start the packets flow; Start for an unknown SSRC, or twice, does nothing; the keyframe request
// of a start without a cached keyframe is made once, at Start, not at Bind.
func TestBindWaitsForStart(t *testing.T) {
	requests := 0
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", func(*Feed) { requests++ })
	w := &countWriter{}
	ctx := &bindContext{id: "v", ssrc: 7, writer: w}
	if _, err := tr.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Unbind(ctx); tr.wg.Wait() }()
	src := followedFeed(tr, h264Codec)
	p := benchPacket()
	for i := 0; i < 10; i++ {
		p.SequenceNumber++
		if err := src.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.packets.Load(); got != 0 || requests != 0 || tr.Bindings() != 0 {
		t.Fatalf("before Start: %d packets written, %d keyframe requests, %d bindings", got, requests, tr.Bindings())
	}
	if tr.Start(8) {
		t.Fatal("Start of an unknown SSRC reported a binding")
	}
	if !tr.Start(7) || tr.Start(7) {
		t.Fatal("Start must find the binding exactly once")
	}
	if requests != 1 || tr.Bindings() != 1 {
		t.Fatalf("after Start: %d keyframe requests, %d bindings; want 1 and 1", requests, tr.Bindings())
	}
	for i := 0; i < 10; i++ {
		p.SequenceNumber++
		if err := src.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.packets.Load() < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("after Start: %d of 10 packets written", w.packets.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Unbind of an output that never started forgets it.
func TestUnbindPending(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeAudio, "s", nil)
	ctx := &bindContext{id: "v", ssrc: 7, writer: &countWriter{}}
	if _, err := tr.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Unbind(ctx); err != nil {
		t.Fatal(err)
	}
	if tr.Start(7) {
		t.Fatal("a binding removed by Unbind was started")
	}
}

// A started viewer gets nothing older than the ring head at its Start: events a worker still had
// queued from before (its previous viewers left) are not its first packets.
func TestStartSkipsStaleEvents(t *testing.T) {
	tr := newTrack(webrtc.RTPCodecTypeVideo, "s", nil)
	f := followedFeed(tr, h264Codec)
	w := &countWriter{}
	p := benchPacket()
	var stale uint64
	for i := 0; i < 3; i++ {
		stale, _ = f.ring.push(uint16(10+i), uint32(i)*960, true, p.Payload, false, int64(i)*frameNs)
	}
	b := nackOutput(tr, f, w) // the worker goroutine is not started: fanOut runs here
	_, _, head, _, _ := f.ring.join()
	b.from = head
	wk := tr.worker(0)
	wk.fanOut(f, stale-1)
	if got := w.packets.Load(); got != 0 {
		t.Fatalf("a packet from before Start was written (%d)", got)
	}
	fresh, _ := f.ring.push(13, 3*960, true, p.Payload, false, 3*frameNs)
	wk.fanOut(f, fresh)
	if got := w.packets.Load(); got != 1 {
		t.Fatalf("%d packets written after Start, want 1", got)
	}
}
