package main

import (
	"crypto/sha256"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// simulcastPub is a publisher whose video layers are named by rid only (no a=ssrc lines, as in
// testdata/offers/obs-simulcast.sdp) and whose packets carry the mid and rid header extensions,
// as OBS and browsers send them; pion's sender adds neither, so tests packetize the layers
// themselves with the extension ids the answer negotiated.
type simulcastPub struct {
	*rawPeer
	tr           *webrtc.RTPTransceiver
	tracks       []*webrtc.TrackLocalStaticRTP // one per rid, in the order given
	midID, ridID uint8                         // negotiated header extension ids
	mid          string
}

// publishSimulcast publishes one video transceiver with a layer per rid (msid stream id msid) to
// whipURL and fails the test unless the answer is a 201 that negotiates both extensions.
func publishSimulcast(t *testing.T, whipURL string, codec webrtc.RTPCodecCapability, msid string, rids ...string) *simulcastPub {
	t.Helper()
	p := &simulcastPub{rawPeer: newRawPeer(t)}
	for _, rid := range rids {
		track, err := webrtc.NewTrackLocalStaticRTP(codec, "video", msid, webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		p.tracks = append(p.tracks, track)
	}
	var err error
	p.tr, err = p.pc.AddTransceiverFromTrack(p.tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	for _, track := range p.tracks[1:] {
		if err := p.tr.Sender().AddEncoding(track); err != nil {
			t.Fatal(err)
		}
	}
	var offer []string
	for _, line := range strings.Split(p.gather(t, false), "\r\n") {
		if !strings.HasPrefix(line, "a=ssrc") {
			offer = append(offer, line)
		}
	}
	resp, answer := postSDP(t, whipURL, strings.Join(offer, "\r\n"), nil)
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	p.loc = resp.Header.Get("Location")
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	extID := func(uri string) uint8 {
		m := regexp.MustCompile(`a=extmap:(\d+) ` + regexp.QuoteMeta(uri)).FindStringSubmatch(answer)
		if m == nil {
			t.Fatalf("answer negotiates no %s", uri)
		}
		id, _ := strconv.Atoi(m[1])
		return uint8(id)
	}
	p.midID, p.ridID = extID("urn:ietf:params:rtp-hdrext:sdes:mid"), extID("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")
	p.mid = p.tr.Mid()
	return p
}

// ignoreRTCP reads and drops what wisp sends the publisher over RTCP, its keyframe requests
// among them (a PLI-deaf publisher, as OBS is), on a goroutine counted in wg that ends when the
// PeerConnection closes (the caller's cleanup closes it and waits on wg), then waits until the
// publisher is connected.
func (p *simulcastPub) ignoreRTCP(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, _, err := p.tr.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	select {
	case <-p.connected:
	case <-time.After(10 * time.Second): // setup, not media
		t.Fatal("publisher not connected")
	}
}

// write packetizes one frame of the layer rid (a 30 fps step) and sends it on track with the mid
// and rid header extensions.
func (p *simulcastPub) write(track *webrtc.TrackLocalStaticRTP, pk rtp.Packetizer, rid string, frame []byte) {
	for _, pkt := range pk.Packetize(frame, 90000/30) {
		_ = pkt.Header.SetExtension(p.midID, []byte(p.mid))
		_ = pkt.Header.SetExtension(p.ridID, []byte(rid))
		_ = track.WriteRTP(pkt)
	}
}

// awaitSwitch reads frames until one of layer want arrives, which must be a keyframe, then
// requires n-1 more of that layer and none of another. Layer i's frames are known by their
// SHA-256 in sets[i] (names[i] names it); a frame of no layer fails, and so does d passing first
// (a bound of a few GOPs of the layers).
func awaitSwitch(t *testing.T, frames <-chan client.Frame, names []string, sets []map[[32]byte]bool, want, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for switched, i := false, 0; i < n; {
		select {
		case f := <-frames:
			h := sha256.Sum256(f.Data)
			l := slices.IndexFunc(sets, func(s map[[32]byte]bool) bool { return s[h] })
			switch {
			case l < 0:
				t.Fatalf("a frame (%d bytes) of no layer", len(f.Data))
			case !switched && l == want:
				if !f.Keyframe {
					t.Fatalf("the switch to layer %q starts with a delta frame", names[want])
				}
				switched, i = true, 1
			case switched && l != want:
				t.Fatalf("a frame of layer %q after %d frames of layer %q", names[l], i, names[want])
			case switched:
				i++
			}
		case <-deadline:
			t.Fatalf("layer %q: %d of %d frames within %v", names[want], i, n, d)
		}
	}
}
