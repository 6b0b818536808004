package main

import (
	"context"
	"io"
	"net/http"
	"path"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// Each bad request gets its spec status and changes nothing: while a publisher and a viewer are
// live on "cam", none of them creates a session or a stream, the viewer keeps playing, and once
// everything is closed the goroutines are back to baseline (COMMON-04, COMMON-10, COMMON-16,
// COMMON-19, COMMON-37; WHIP-01, WHEP-02).
func TestBadInputChangesNothing(t *testing.T) {
	base := runtime.NumGoroutine()
	whipOffer := offerSDP(t, webrtc.RTPTransceiverDirectionSendonly)
	whepOffer := offerSDP(t, webrtc.RTPTransceiverDirectionRecvonly)
	t.Run("live stream", func(t *testing.T) {
		srv := startServer(t, func(c *config) { c.PublishKeys = keyMap{"locked": "k3y"} })
		m := openMedia(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		defer pub.Close()
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
		if err != nil {
			t.Fatalf("view: %v", err)
		}
		defer v.Close()
		recvFrames(t, v, m, 10, 10*time.Second)
		viewerID := path.Base(v.Location())

		twoVideo := strings.Replace(whipOffer, "m=video", "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:9\r\na=sendonly\r\nm=video", 1)
		for _, tc := range []struct {
			name, method, url, ctype, auth, body string
			want                                 int
		}{
			{"body over the cap", "POST", srv.whipURL("cam2"), "application/sdp", "", whipOffer + strings.Repeat("a=x:y\r\n", 10000), 413},
			{"wrong content type", "POST", srv.whipURL("cam2"), "text/plain", "", whipOffer, 415},
			{"empty body", "POST", srv.whepURL("cam"), "application/sdp", "", "", 400},
			{"not SDP", "POST", srv.whepURL("cam"), "application/sdp", "", "hello", 400},
			{"truncated SDP", "POST", srv.whepURL("cam"), "application/sdp", "", whepOffer[:len(whepOffer)/2], 400},
			{"two video sections", "POST", srv.whipURL("cam2"), "application/sdp", "", twoVideo, 422},
			{"recvonly WHIP offer", "POST", srv.whipURL("cam2"), "application/sdp", "", whepOffer, 422},
			{"sendonly WHEP offer", "POST", srv.whepURL("cam"), "application/sdp", "", whipOffer, 422},
			{"invalid stream name", "POST", srv.whipURL("bad%20name"), "application/sdp", "", whipOffer, 404},
			{"no key", "POST", srv.whipURL("locked"), "application/sdp", "", whipOffer, 401},
			{"wrong key", "POST", srv.whipURL("locked"), "application/sdp", "Bearer k3", whipOffer, 401},
			{"PUT on the endpoint", "PUT", srv.whipURL("cam"), "application/sdp", "", whipOffer, 405},
			{"DELETE an unknown session", "DELETE", srv.whepURL("cam") + "/00000000000000000000000000000000", "", "", "", 404},
			{"DELETE a session under another stream", "DELETE", srv.whepURL("other") + "/" + viewerID, "", "", "", 404},
		} {
			req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
			}
			if resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: Content-Type %q, want problem details", tc.name, resp.Header.Get("Content-Type"))
			}
			if srv.whip.Len() != 1 || srv.whep.Len() != 1 || len(srv.registry.List()) != 1 {
				t.Fatalf("%s: %d publishers, %d viewers, streams %+v", tc.name, srv.whip.Len(), srv.whep.Len(), srv.registry.List())
			}
		}
		recvFrames(t, v, m, 30, 10*time.Second) // the live stream was not disturbed
	}) // the server shuts down here
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}
