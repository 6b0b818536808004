package main

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// rtpWith marshals an RTP packet carrying the transport-wide sequence number seq under id, in
// the one-byte or two-byte header extension form, after csrcs CSRCs.
func rtpWith(t *testing.T, id uint8, seq uint16, twoByte bool, csrcs int) []byte {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1, SSRC: 7, CSRC: make([]uint32, csrcs)}
	h.Extension = true
	h.ExtensionProfile = 0xBEDE
	if twoByte {
		h.ExtensionProfile = 0x1000
	}
	if err := h.SetExtension(1, []byte{0xAA}); err != nil { // another extension first (mid)
		t.Fatal(err)
	}
	if err := h.SetExtension(id, []byte{byte(seq >> 8), byte(seq)}); err != nil {
		t.Fatal(err)
	}
	b, err := (&rtp.Packet{Header: h, Payload: []byte{1, 2, 3}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransportSeq reads the transport-wide sequence number from RTP headers as pion writes them
// (one-byte and two-byte extensions, after CSRCs and other extensions), and refuses what does not
// carry it.
func TestTransportSeq(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       []byte
		id      uint8
		want    uint16
		wantOK  bool
		twoByte bool
	}{
		{"one-byte", rtpWith(t, 3, 4242, false, 0), 3, 4242, true, false},
		{"one-byte after two CSRCs", rtpWith(t, 5, 65535, false, 2), 5, 65535, true, false},
		{"two-byte", rtpWith(t, 3, 17, true, 0), 3, 17, true, true},
		{"another id", rtpWith(t, 3, 17, false, 0), 4, 0, false, false},
		{"no extension", func() []byte { b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2}}).Marshal(); return b }(), 3, 0, false, false},
		{"truncated", rtpWith(t, 3, 17, false, 0)[:14], 3, 0, false, false},
		{"short", []byte{0x90, 96, 0}, 3, 0, false, false},
	} {
		got, ok := transportSeq(tc.b, tc.id)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: transportSeq = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestTWCCID finds the transport-cc extension's id in an answer, with or without a direction.
func TestTWCCID(t *testing.T) {
	const uri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	for _, tc := range []struct {
		sdp  string
		want uint8
	}{
		{"v=0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:3 " + uri + "\r\n", 3},
		{"v=0\r\na=extmap:12/sendonly " + uri + "\r\n", 12},
		{"v=0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n", 0},
		{"v=0\r\na=extmap:999 " + uri + "\r\n", 0},
	} {
		if got := twccID(tc.sdp); got != tc.want {
			t.Errorf("twccID(%q) = %d, want %d", tc.sdp, got, tc.want)
		}
	}
}

// TestTWCCFeedbackOverSRTCP: a counting viewer (-count -twcc) whose socket swallows every SRTP
// packet before pion sees it still sends transport-cc feedback for each packet a real pion
// sender stamped (ConfigureTWCCHeaderExtensionSender, as a server with a send-side estimator
// does): the sender's RTCP reader gets TransportLayerCC reporting every packet it sent received.
func TestTWCCFeedbackOverSRTCP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The sender: default codecs, the TWCC header-extension stamping, loopback only.
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	spc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer spc.Close()

	// The counting viewer, swallowing every SRTP packet from the first.
	n, err := newCountNet()
	if err != nil {
		t.Fatal(err)
	}
	n.twcc = newTWCCFeedback()
	n.swallow.Store(true)
	api, err := loadAPI(n, true, true)
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer vpc.Close()
	if _, err := vpc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}

	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := spc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := vpc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	vg := webrtc.GatheringCompletePromise(vpc)
	if err := vpc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-vg
	if err := spc.SetRemoteDescription(*vpc.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := spc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	sg := webrtc.GatheringCompletePromise(spc)
	if err := spc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-sg
	if err := vpc.SetRemoteDescription(*spc.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	id := twccID(spc.LocalDescription().SDP)
	if id == 0 {
		t.Fatalf("the answer did not accept transport-cc:\n%s", spc.LocalDescription().SDP)
	}
	n.twcc.id.Store(uint32(id))
	var wg sync.WaitGroup
	defer func() { // the RTCP reader ends when the sender closes
		cancel()
		_ = spc.Close()
		_ = vpc.Close()
		wg.Wait()
	}()
	wg.Go(func() { n.twcc.run(ctx, vpc.WriteRTCP) })

	// The sender's RTCP: count the packets transport-cc feedback reports received.
	reported := make(chan int, 64)
	wg.Go(func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if fb, ok := p.(*rtcp.TransportLayerCC); ok {
					select {
					case reported <- len(fb.RecvDeltas):
					case <-ctx.Done():
						return
					}
				}
			}
		}
	})
	connected := make(chan struct{})
	var once sync.Once
	spc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected in 10 s")
	}

	// 100 packets over one second of media (10 ms apart).
	const sent = 100
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := range sent {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i) * 900}, Payload: make([]byte, 200)})
		}
	})
	// Every packet is reported within ten feedback intervals of the last one being sent; the
	// guard below only stops a broken run.
	got := 0
	guard := time.After(time.Second + 10*twccInterval + 5*time.Second)
	for got < sent {
		select {
		case k := <-reported:
			got += k
		case <-guard:
			t.Fatalf("transport-cc feedback reported %d of %d packets received", got, sent)
		}
	}
	if got != sent {
		t.Fatalf("feedback reported %d packets received, %d were sent", got, sent)
	}
	if c := n.feedback.Load(); c == 0 {
		t.Fatal("the socket counted no transport-cc feedback sent")
	}
	if _, packets, _, _ := n.c.snapshot(); packets < sent {
		t.Fatalf("the socket counted %d SRTP packets, want at least %d", packets, sent)
	}
}
