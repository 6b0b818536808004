package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
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

// localPair returns the local address of the viewer's selected ICE candidate pair, or "".
func localPair(pc *webrtc.PeerConnection) string {
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == nil || tr.Receiver().Transport() == nil {
			continue
		}
		pair, err := tr.Receiver().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			return ""
		}
		return net.JoinHostPort(pair.Local.Address, fmt.Sprint(pair.Local.Port))
	}
	return ""
}

// h264Frames rebuilds H.264 frames (Annex B) from RTP packets in arrival order, as a player that
// does not wait for retransmissions would: a frame is the packets of one timestamp from a partition
// head to the marker, with no sequence gap before or inside it (a gap before it may have taken its
// SPS/PPS packet). Late packets (retransmissions) and damaged frames are dropped, never delivered.
type h264Frames struct {
	depack  codecs.H264Packet
	haveSeq bool
	seq     uint16
	ts      uint32
	broken  bool
	buf     []byte
}

func (a *h264Frames) push(p *rtp.Packet) ([]byte, bool) {
	first, gap := !a.haveSeq, !a.haveSeq
	if a.haveSeq {
		d := p.SequenceNumber - a.seq
		if d == 0 || d >= 0x8000 {
			return nil, false // duplicate or late
		}
		gap = d > 1
	}
	a.haveSeq, a.seq = true, p.SequenceNumber
	if len(p.Payload) == 0 {
		return nil, false // padding
	}
	if first || p.Timestamp != a.ts { // the first packet of a frame
		a.ts, a.buf, a.depack = p.Timestamp, a.buf[:0], codecs.H264Packet{}
		a.broken = gap || !a.depack.IsPartitionHead(p.Payload)
	} else if gap {
		a.broken = true
	}
	if !a.broken {
		b, err := a.depack.Unmarshal(p.Payload)
		a.broken = err != nil
		a.buf = append(a.buf, b...)
	}
	if !p.Marker || a.broken || len(a.buf) == 0 {
		return nil, false
	}
	a.broken = true // done: further packets with this timestamp are not part of it
	return append([]byte(nil), a.buf...), true
}

// rawFrame is one H.264 frame a rawPeer viewer rebuilt, with its arrival time.
type rawFrame struct {
	data []byte
	at   time.Time
}

// recvRawFrames reads n frames within d and checks each is byte-identical to a frame of the
// source, like recvFrames; it returns the arrival of the first frame and of the first keyframe
// (zero if none).
func recvRawFrames(t *testing.T, frames <-chan rawFrame, m media, n int, d time.Duration) (first, firstKey time.Time) {
	t.Helper()
	timeout := time.After(d)
	for i := 0; i < n; i++ {
		select {
		case f := <-frames:
			if !m.frames[sha256.Sum256(f.data)] {
				t.Fatalf("frame %d (%d bytes) is not a frame of the source", i, len(f.data))
			}
			if i == 0 {
				first = f.at
			}
			if isIDR(f.data) && firstKey.IsZero() {
				firstKey = f.at
			}
		case <-timeout:
			t.Fatalf("got %d of %d frames in %v", i, n, d)
		}
	}
	return first, firstKey
}

// isIDR reports whether an Annex-B frame (4-byte start codes) holds an IDR slice.
func isIDR(b []byte) bool {
	for i := 0; i+4 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 0 && b[i+3] == 1 && b[i+4]&0x1f == 5 {
			return true
		}
	}
	return false
}

// TestICERestartAfterAddressChange: a viewer's network changes under it (its socket goes dead,
// both ways; its interface gets a new address, 127.0.0.1 → 127.0.0.2). Media stops. The viewer
// restarts ICE by PATCH with If-Match: * (RFC 9725 §4.3.3, COMMON-25) on the same session: 200,
// a new ETag, its selected pair now uses the new address, and byte-identical frames resume, with
// no new POST and still one WHEP session at the same Location.
func TestICERestartAfterAddressChange(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	oldIP, newIP := net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)
	mn := newMoveNet(t, oldIP)
	view := newRawPeerAPI(t, netAPI(t, mn))
	if _, err := view.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	var packets atomic.Int64
	frames := make(chan rawFrame, 1024)
	var readers sync.WaitGroup
	view.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var a h264Frames
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				packets.Add(1)
				if f, ok := a.push(p); ok {
					select {
					case frames <- rawFrame{f, time.Now()}:
					default: // the test is not reading: drop
					}
				}
			}
		}()
	})
	view.negotiate(t, srv.whepURL("cam"))
	oldLocal := localPair(view.pc)
	if host, _, _ := net.SplitHostPort(oldLocal); host != oldIP.String() {
		t.Fatalf("selected pair's local address %q before the move, want %s", oldLocal, oldIP)
	}
	recvRawFrames(t, frames, m, 30, 15*time.Second)

	// The network changes: the viewer's socket goes dead both ways.
	old := mn.move(newIP)
	if len(old) == 0 {
		t.Fatal("the viewer had no socket to kill")
	}
	droppedIn := func() (n int64) {
		for _, c := range old {
			n += c.droppedIn.Load()
		}
		return n
	}
	// wisp keeps sending to the old address; nothing of it may reach the viewer. Let the pipeline
	// drain (30 datagrams dropped, ≈ 1 s of video), then require 60 more dropped and not one RTP
	// packet read meanwhile.
	waitFor(t, 10*time.Second, "30 datagrams dropped at the dead socket", func() bool { return droppedIn() >= 30 })
	stalled, mark := packets.Load(), droppedIn()
	waitFor(t, 10*time.Second, "60 more datagrams dropped at the dead socket", func() bool { return droppedIn() >= mark+60 })
	if p := packets.Load(); p != stalled {
		t.Fatalf("%d RTP packets read after the socket died: media did not stop", p-stalled)
	}
	for len(frames) > 0 {
		<-frames
	}

	// ICE restart by PATCH on the same session (rawPeer.restart checks 200, the fragment, the
	// trickle-ice-sdpfrag type and an ETag other than the 201's).
	oldETag := view.etag
	start := time.Now()
	r := view.restart(t)
	patched := time.Now()
	newETag := r.Header.Get("ETag")
	if newETag == "" || newETag == oldETag {
		t.Fatalf("restart ETag %q, old %q", newETag, oldETag)
	}
	waitFor(t, 10*time.Second, "the selected pair to use the new address", func() bool {
		host, _, _ := net.SplitHostPort(localPair(view.pc))
		return host == newIP.String()
	})
	newLocal := localPair(view.pc)
	if newLocal == oldLocal {
		t.Fatalf("selected pair's local address still %s", newLocal)
	}
	// The pair is a real socket made after the move, bound to the new address, carrying traffic.
	mn.mu.Lock()
	fresh := mn.conns
	mn.mu.Unlock()
	var carrying bool
	for _, c := range fresh {
		carrying = carrying || (c.LocalAddr().String() == newLocal && c.in.Load() > 0 && c.out.Load() > 0)
	}
	if !carrying {
		t.Fatalf("no socket bound to %s after the move carries datagrams both ways", newLocal)
	}
	// ≥ 30 new frames, and a keyframe among them or soon after (the clip has one a second), so a
	// decoder could start again.
	first, firstKey := recvRawFrames(t, frames, m, 30, 15*time.Second)
	for i := 0; firstKey.IsZero(); i++ {
		if i == 60 {
			t.Fatal("no keyframe in 90 frames after the restart")
		}
		_, firstKey = recvRawFrames(t, frames, m, 1, 5*time.Second)
	}
	t.Logf("restart call (gather, PATCH, apply answer) %v; restart call → first frame %v, → first keyframe %v; selected pair %s → %s; dead socket dropped %d datagrams in, %d out",
		patched.Sub(start), first.Sub(start), firstKey.Sub(start), oldLocal, newLocal, droppedIn(), old[0].droppedOut.Load())

	// Same session: one WHEP session, and its Location takes trickle with the new ETag only.
	if n := srv.whep.Len(); n != 1 {
		t.Fatalf("%d WHEP sessions after the restart, want 1", n)
	}
	frag := "a=candidate:1 1 udp 2122260223 127.0.0.2 9 typ host\r\n"
	if s := do(t, http.MethodPatch, view.loc, frag, map[string]string{"Content-Type": trickleType, "If-Match": oldETag}); s.StatusCode != 412 {
		t.Fatalf("trickle with the pre-restart ETag: %d, want 412", s.StatusCode)
	}
	if s := do(t, http.MethodPatch, view.loc, frag, map[string]string{"Content-Type": trickleType, "If-Match": newETag}); s.StatusCode != 204 {
		t.Fatalf("trickle with the new ETag: %d, want 204", s.StatusCode)
	}

	if d := do(t, http.MethodDelete, view.loc, "", nil); d.StatusCode != 200 {
		t.Fatalf("DELETE: %d", d.StatusCode)
	}
	_ = view.pc.Close()
	readers.Wait()
	_ = pub.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 5*time.Second, "sessions gone", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
	checkGoroutines(t, base)
}
