package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// A client that closes its PeerConnection before it DELETEs (OBS, Medooze stop()) ends the
// session by DTLS close_notify first; its DELETE then still gets 200, once, and a second 404
// (COMMON-18, COMMON-19).
func TestDeleteAfterPeerClosed(t *testing.T) {
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api, err := client.NewLoopbackAPI() // a caller's API: Kill still sends close_notify
	if err != nil {
		t.Fatal(err)
	}
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true, API: api})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	<-pub.Connected()
	pub.Kill() // closes the PeerConnection, no DELETE
	waitFor(t, 10*time.Second, "the server to end the session", func() bool { return srv.whip.Len() == 0 })

	for i, want := range []int{http.StatusOK, http.StatusNotFound} {
		req, _ := http.NewRequest(http.MethodDelete, pub.Location(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("DELETE %d after the peer closed: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}
