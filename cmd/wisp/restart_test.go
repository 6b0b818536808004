package main

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/wisp-media/wisp/client"
)

// rawPeer is a pion PeerConnection negotiated by hand over WHIP or WHEP, so a test can drive
// trickle and ICE restart itself.
type rawPeer struct {
	pc        *webrtc.PeerConnection
	loc, etag string
	answer    string
	connected chan struct{}
	once      sync.Once
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	api, err := client.NewLoopbackAPI()
	if err != nil {
		t.Fatal(err)
	}
	return newRawPeerAPI(t, api)
}

// newRawPeerAPI is newRawPeer on the caller's pion API (for example one on a test socket layer).
func newRawPeerAPI(t *testing.T, api *webrtc.API) *rawPeer {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{pc: pc, connected: make(chan struct{})}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.once.Do(func() { close(p.connected) })
		}
	})
	t.Cleanup(func() { _ = pc.Close() })
	return p
}

// gather sets a local offer (optionally an ICE restart) and waits for every candidate.
func (p *rawPeer) gather(t *testing.T, restart bool) string {
	t.Helper()
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("gathering timed out")
	}
	return p.pc.LocalDescription().SDP
}

// negotiate POSTs the offer and applies the answer.
func (p *rawPeer) negotiate(t *testing.T, endpoint string) {
	t.Helper()
	resp, answer := postSDP(t, endpoint, p.gather(t, false), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	p.loc, p.etag, p.answer = resp.Header.Get("Location"), resp.Header.Get("ETag"), answer
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
}

// restart performs a client ICE restart by PATCH (RFC 9725 §4.3.3) and applies the server's
// fragment to the stored answer. It checks the response (COMMON-25) and returns it.
func (p *rawPeer) restart(t *testing.T) response {
	t.Helper()
	local := p.gather(t, true)
	_, msecs := sections(local)
	var b strings.Builder
	b.WriteString("a=ice-ufrag:" + attr(local, "ice-ufrag") + "\r\na=ice-pwd:" + attr(local, "ice-pwd") + "\r\n")
	b.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" + attr(msecs[0], "mid") + "\r\n")
	for _, l := range strings.Split(strings.ReplaceAll(msecs[0], "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			b.WriteString(l + "\r\n")
		}
	}
	b.WriteString("a=end-of-candidates\r\n")
	r := do(t, http.MethodPatch, p.loc, b.String(), map[string]string{"Content-Type": trickleType, "If-Match": "*"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("restart PATCH: %d %s", r.StatusCode, r.bodyText)
	}
	frag := r.bodyText
	if r.Header.Get("Content-Type") != trickleType || r.Header.Get("ETag") == "" || r.Header.Get("ETag") == p.etag {
		t.Fatalf("restart response headers %v", r.Header)
	}
	if !strings.HasSuffix(frag, "a=end-of-candidates\r\n") || !strings.Contains(frag, "\r\na=candidate:") ||
		strings.Contains(strings.ReplaceAll(frag, "\r\n", ""), "\n") {
		t.Fatalf("restart fragment is not CRLF with candidates and end-of-candidates: %q", frag)
	}
	if attr(frag, "ice-ufrag") == "" || attr(frag, "ice-ufrag") == attr(p.answer, "ice-ufrag") {
		t.Fatalf("restart fragment ufrag %q, old %q", attr(frag, "ice-ufrag"), attr(p.answer, "ice-ufrag"))
	}
	// The new answer: the old one with the server's new credentials and candidates.
	var cands []string
	for _, l := range strings.Split(strings.ReplaceAll(frag, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			cands = append(cands, l)
		}
	}
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(p.answer, "\r\n", "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"):
			l = "a=ice-ufrag:" + attr(frag, "ice-ufrag")
		case strings.HasPrefix(l, "a=ice-pwd:"):
			l = "a=ice-pwd:" + attr(frag, "ice-pwd")
		case strings.HasPrefix(l, "a=candidate:"), l == "a=end-of-candidates", l == "":
			continue
		}
		out = append(out, l)
		if l == "a=mid:"+attr(msecs[0], "mid") {
			out = append(out, cands...)
		}
	}
	answer := strings.Join(out, "\r\n") + "\r\n"
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("apply restart answer: %v", err)
	}
	return r
}

// TestICERestartWHIP: a publisher restarts ICE by PATCH; the viewer keeps receiving the source's
// frames byte for byte afterwards; the old ETag is then stale (COMMON-23, COMMON-24, COMMON-25).
func TestICERestartWHIP(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	m := openMedia(t)
	pub := newRawPeer(t)
	track, err := webrtc.NewTrackLocalStaticSample(m.video.Codec(), "video", "raw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	pub.negotiate(t, srv.whipURL("cam"))
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // pace the H.264 samples in a loop until the test ends
		defer wg.Done()
		for !stop.Load() {
			for _, s := range m.video.Samples() {
				if stop.Load() {
					return
				}
				_ = track.WriteSample(pionmedia.Sample{Data: s.Data, Duration: s.Duration})
				time.Sleep(s.Duration)
			}
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	recvFrames(t, v, m, 30, 15*time.Second)

	oldETag := pub.etag
	r := pub.restart(t)
	if srv.whip.Len() != 1 {
		t.Fatalf("%d WHIP sessions after restart", srv.whip.Len())
	}
	// Drain what was buffered before the restart, then require fresh frames.
	for len(v.Frames()) > 0 {
		<-v.Frames()
	}
	recvFrames(t, v, m, 60, 15*time.Second)

	frag := "a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\n"
	if s := do(t, http.MethodPatch, pub.loc, frag, map[string]string{"Content-Type": trickleType, "If-Match": oldETag}); s.StatusCode != 412 {
		t.Fatalf("trickle with the pre-restart ETag: %d, want 412", s.StatusCode)
	}
	if s := do(t, http.MethodPatch, pub.loc, frag, map[string]string{"Content-Type": trickleType, "If-Match": r.Header.Get("ETag")}); s.StatusCode != 204 {
		t.Fatalf("trickle with the new ETag: %d, want 204", s.StatusCode)
	}
	stop.Store(true)
	wg.Wait()
	_ = v.Close()
	if d := do(t, http.MethodDelete, pub.loc, "", nil); d.StatusCode != 200 {
		t.Fatalf("DELETE: %d", d.StatusCode)
	}
	_ = pub.pc.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 5*time.Second, "sessions gone", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
	checkGoroutines(t, base)
}

// TestICERestartWHEP: a viewer restarts ICE by PATCH and keeps receiving video; a restart the
// server cannot satisfy is an error that leaves the session and its media untouched (COMMON-25,
// COMMON-26).
func TestICERestartWHEP(t *testing.T) {
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

	view := newRawPeer(t)
	if _, err := view.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	var packets atomic.Int64
	var readers sync.WaitGroup
	view.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				packets.Add(1)
			}
		}()
	})
	view.negotiate(t, srv.whepURL("cam"))
	waitFor(t, 10*time.Second, "video before the restart", func() bool { return packets.Load() > 50 })

	r := view.restart(t)
	before := packets.Load()
	waitFor(t, 10*time.Second, "video after the restart", func() bool { return packets.Load() > before+100 })

	// COMMON-26: a restart that cannot be satisfied (new ufrag, no pwd) → 4xx; session, ETag
	// and media stay.
	bad := "a=ice-ufrag:another\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
	if s := do(t, http.MethodPatch, view.loc, bad, map[string]string{"Content-Type": trickleType, "If-Match": "*"}); s.StatusCode/100 != 4 {
		t.Fatalf("unsatisfiable restart: %d, want 4xx", s.StatusCode)
	}
	after := packets.Load()
	waitFor(t, 10*time.Second, "video after the failed restart", func() bool { return packets.Load() > after+100 })
	frag := "a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\n"
	if s := do(t, http.MethodPatch, view.loc, frag, map[string]string{"Content-Type": trickleType, "If-Match": r.Header.Get("ETag")}); s.StatusCode != 204 {
		t.Fatalf("trickle after the failed restart: %d, want 204 (ETag kept)", s.StatusCode)
	}
	if srv.whep.Len() != 1 {
		t.Fatalf("%d WHEP sessions, want 1", srv.whep.Len())
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
