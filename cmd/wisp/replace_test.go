package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// WHIP-06: by default a second publisher replaces the live one (OBS reconnects so); with
// -replace-publisher=false it gets 409 and the live publisher is undisturbed.
func TestSecondPublisher(t *testing.T) {
	for _, replace := range []bool{true, false} {
		srv := startServer(t, func(c *config) { c.NoReplace = !replace })
		m := openMedia(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		first, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
		if err != nil {
			t.Fatal(err)
		}
		v, err := client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true})
		if err != nil {
			t.Fatal(err)
		}
		recvFrames(t, v, m, 10, 10*time.Second)
		second, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, Loop: true})
		var se *client.StatusError
		switch {
		case replace && err != nil:
			t.Fatalf("replace: second publisher refused: %v", err)
		case replace:
			<-second.Connected()
			waitFor(t, 10*time.Second, "the first publisher's session to end", func() bool { return srv.whip.Len() == 1 })
			defer second.Close()
		case !errors.As(err, &se) || se.Code != http.StatusConflict:
			t.Fatalf("no replace: second publisher got %v, want 409", err)
		default:
			if srv.whip.Len() != 1 {
				t.Fatalf("no replace: %d publisher sessions, want the first only", srv.whip.Len())
			}
		}
		recvFrames(t, v, m, 30, 10*time.Second) // the viewer plays on either way
		_ = v.Close()
		_ = first.Close()
		cancel()
	}
}
