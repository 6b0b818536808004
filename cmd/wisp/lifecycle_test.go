package main

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// TestDeadSessionsEnd: sessions whose client never connects are reaped (COMMON-19, ≤ 30 s), and
// sessions whose client vanishes without a word end by consent freshness (COMMON-36). Both kinds
// run at once, on WHIP and WHEP, so the test waits for the slowest once.
func TestDeadSessionsEnd(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Never connect: OBS and Chrome offers with nobody behind them.
	var locs []string
	for _, o := range []struct{ url, file string }{
		{srv.whipURL("ghost"), "obs-h264.sdp"},
		{srv.whepURL("ghost"), "chrome-recvonly.sdp"},
	} {
		resp, body := postSDP(t, o.url, readOffer(t, o.file), nil)
		if resp.StatusCode != 201 {
			t.Fatalf("POST %s: %d %s", o.url, resp.StatusCode, body)
		}
		locs = append(locs, resp.Header.Get("Location"))
	}
	// Connect, then vanish: sockets cut, no DELETE, no DTLS close.
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
	if err != nil {
		t.Fatal(err)
	}
	recvFrames(t, v, m, 10, 10*time.Second)
	if srv.whip.Len() != 2 || srv.whep.Len() != 2 {
		t.Fatalf("sessions: whip %d whep %d, want 2 and 2", srv.whip.Len(), srv.whep.Len())
	}
	start := time.Now()
	pub.Kill()
	v.Kill()
	waitFor(t, 30*time.Second, "dead sessions ended", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
	t.Logf("all dead sessions ended %v after the kill", time.Since(start).Round(time.Second))
	// The client's own DELETE after its session was reaped gets 200 once (OBS DELETEs after a
	// failure and warns on anything else; see wish.Sessions), then 404 (COMMON-19).
	for _, loc := range locs {
		for _, want := range []int{http.StatusOK, http.StatusNotFound} {
			if r := do(t, http.MethodDelete, loc, "", nil); r.StatusCode != want {
				t.Errorf("DELETE of a reaped session: %d, want %d", r.StatusCode, want)
			}
		}
	}
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}

// TestDeleteEndsPeer: DELETE answers 200, and the server's DTLS close_notify ends the client's
// PeerConnection promptly (COMMON-18).
func TestDeleteEndsPeer(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-pub.Connected():
	case <-ctx.Done():
		t.Fatal("not connected")
	}
	// The client is connected once it has the server's DTLS Finished; wait until the server has
	// finished its side too (its first RTP reached the stream), so the DELETE's close_notify is
	// sent on an established association.
	waitFor(t, 10*time.Second, "the server receiving video", func() bool {
		st, ok := srv.registry.Get("cam")
		return ok && st.Info().Video != ""
	})
	if r := do(t, http.MethodDelete, pub.Location(), "", map[string]string{"If-Match": `"bogus"`}); r.StatusCode != 200 {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	select {
	case <-pub.Ended():
	case <-time.After(3 * time.Second):
		t.Fatalf("client PeerConnection still %v 3 s after DELETE", pub.State())
	}
	pub.Kill()
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}

// TestZeroCandidateOffer: an offer with no candidates and no trickle afterwards (OBS, ffmpeg)
// connects: the server learns the client as peer-reflexive from its checks (COMMON-34).
func TestZeroCandidateOffer(t *testing.T) {
	srv := startServer(t, nil)
	p := newRawPeer(t)
	if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer := p.gather(t, false)
	var kept []string
	for _, l := range strings.Split(offer, "\r\n") {
		if !strings.HasPrefix(l, "a=candidate:") && l != "a=end-of-candidates" {
			kept = append(kept, l)
		}
	}
	stripped := strings.Join(kept, "\r\n")
	if strings.Contains(stripped, "a=candidate") {
		t.Fatal("candidates left in the offer")
	}
	resp, answer := postSDP(t, srv.whipURL("obs"), stripped, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.connected:
	case <-time.After(10 * time.Second):
		t.Fatalf("not connected: %v", p.pc.ConnectionState())
	}
	if r := do(t, http.MethodDelete, resp.Header.Get("Location"), "", nil); r.StatusCode != 200 {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
}

// TestWHEPRequirePublisher: with -whep-require-publisher, a viewer of an idle stream gets 409 +
// Retry-After and nothing is left behind (WHEP-04); once the publisher is live it gets 201.
func TestWHEPRequirePublisher(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, func(c *config) { c.WHEPRequirePublisher = true })
	m := openMedia(t)
	offer := readOffer(t, "chrome-recvonly.sdp")
	r, body := postSDP(t, srv.whepURL("cam"), offer, nil)
	if r.StatusCode != http.StatusConflict || r.Header.Get("Retry-After") == "" {
		t.Fatalf("idle stream: %d Retry-After %q: %s", r.StatusCode, r.Header.Get("Retry-After"), body)
	}
	if srv.registry.Len() != 0 || srv.whep.Len() != 0 {
		t.Fatal("a refused viewer left a stream or session behind")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	<-pub.Connected()
	if r, body := postSDP(t, srv.whepURL("cam"), offer, nil); r.StatusCode != 201 {
		t.Fatalf("live stream: %d %s", r.StatusCode, body)
	} else if d := do(t, http.MethodDelete, r.Header.Get("Location"), "", nil); d.StatusCode != 200 {
		t.Fatalf("DELETE: %d", d.StatusCode)
	}
	_ = pub.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 5*time.Second, "sessions gone", func() bool { return srv.whip.Len()+srv.whep.Len() == 0 })
	checkGoroutines(t, base)
}
