package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// TestParseLayers reads -simulcast and refuses what it cannot publish.
func TestParseLayers(t *testing.T) {
	got, err := parseLayers("l=a.h264, m=b.h264,h=c.h264")
	if err != nil || len(got) != 3 || got[0] != (layerSpec{"l", "a.h264"}) || got[2] != (layerSpec{"h", "c.h264"}) {
		t.Fatalf("parseLayers = %v, %v", got, err)
	}
	for _, bad := range []string{"", "l=a.h264", "l=a.h264,l=b.h264", "a.h264,b.h264", "l=a.ivf,h=b.h264", "=a.h264,h=b.h264"} {
		if _, err := parseLayers(bad); err == nil {
			t.Errorf("parseLayers(%q): no error", bad)
		}
	}
}

// TestWHIPStreamName takes the stream name from the endpoint's last path segment.
func TestWHIPStreamName(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/whep/bench":         "bench",
		"http://127.0.0.1:8080/whip/a%20b/":        "a b",
		"http://127.0.0.1:8080/whep/x?placed=1":    "x",
		"https://example.test/live/whep/cam-1#top": "cam-1",
	} {
		if got := whipStreamName(in); got != want {
			t.Errorf("whipStreamName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSimulcastPublisher publishes three rid layers (the three H.264 clips) to a WHIP endpoint
// whose answerer is a real pion PeerConnection: the offer names the layers by rid only (no
// a=ssrc), and the receiver gets a track per rid whose packets carry the mid and rid header
// extensions (pion demultiplexes them by those) and carries the layer's keyframes; Close sends
// DELETE to the session URL.
func TestSimulcastPublisher(t *testing.T) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(&interceptor.Registry{}), webrtc.WithSettingEngine(se))
	rpc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer rpc.Close()

	got := make(chan string, 8) // a rid, once its first keyframe packet arrived
	var readers sync.WaitGroup
	defer readers.Wait()
	defer rpc.Close() // runs first: the readers end with it
	rpc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		readers.Go(func() {
			sent := false
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				// Every IDR of the clips is led by an SPS (NAL type 7), alone or in a STAP-A (24).
				p := pkt.Payload
				if !sent && tr.Kind() == webrtc.RTPCodecTypeVideo && len(p) > 0 && (p[0]&0x1f == 7 || (p[0]&0x1f == 24 && len(p) > 3 && p[3]&0x1f == 7)) {
					got <- tr.RID()
					sent = true
				}
			}
		})
	})

	var offerSDP string
	deleted := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			offerSDP = string(b)
			if err := rpc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			answer, err := rpc.CreateAnswer(nil)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			g := webrtc.GatheringCompletePromise(rpc)
			if err := rpc.SetLocalDescription(answer); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			<-g
			w.Header().Set("Content-Type", "application/sdp")
			w.Header().Set("Location", "/whip/bench/session")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, rpc.LocalDescription().SDP)
		case http.MethodDelete:
			if r.URL.Path == "/whip/bench/session" {
				deleted <- struct{}{}
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const media = "../../testdata/media/"
	f := &publishFlags{whip: srv.URL + "/whip/bench", fps: 30, audio: media + "opus.ogg",
		simulcast: "l=" + media + "h264-180p.h264,m=" + media + "h264-360p.h264,h=" + media + "h264-720p.h264"}
	p, err := f.startAny(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if strings.Contains(offerSDP, "a=ssrc") || !strings.Contains(offerSDP, "a=simulcast:send l;m;h") {
		t.Fatalf("offer is not rid-only simulcast l;m;h:\n%s", offerSDP)
	}
	seen := map[string]bool{}
	for len(seen) < 3 { // each layer's keyframe, within two of its 2 s GOPs
		select {
		case rid := <-got:
			seen[rid] = true
		case <-time.After(4 * time.Second):
			t.Fatalf("layers received: %v, want l, m and h", seen)
		}
	}
	if !seen["l"] || !seen["m"] || !seen["h"] {
		t.Fatalf("layers received: %v, want l, m and h", seen)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-deleted:
	default:
		t.Fatal("Close sent no DELETE to the session URL")
	}
}
