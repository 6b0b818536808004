package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// TestViewerDataChannelTalksBack: a player may write on its data channel (wisp reads and discards
// it, small and large messages alike) without disturbing the relay, and may close the channel
// while it keeps watching: its subscription ends and the other viewer still gets every message
// in order (WHEP-08, COMMON-01).
func TestViewerDataChannelTalksBack(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := startServer(t, nil)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cam"), client.PublishOptions{Video: m.video, DataChannel: "data", Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	var viewers [2]*client.Viewer
	for i := range viewers {
		if viewers[i], err = client.View(ctx, srv.whepURL("cam"), client.ViewOptions{Video: true, DataChannel: "data"}); err != nil {
			t.Fatalf("view %d: %v", i, err)
		}
		defer viewers[i].Close()
	}
	talker, listener := viewers[0], viewers[1]
	st, ok := srv.registry.Get("cam")
	if !ok {
		t.Fatal("stream cam not in registry")
	}
	waitFor(t, 10*time.Second, "2 relay subscribers", func() bool { return st.Relay().Stats().Subscribers == 2 })
	<-pub.DataOpen()
	<-talker.DataOpen()

	// The talker writes text, a message larger than the server's read buffer and one near the
	// 64 KiB limit, interleaved with the publisher's messages.
	send := func(i int) []byte {
		b := []byte(fmt.Sprintf("msg %d", i))
		if err := pub.Send(b); err != nil {
			t.Fatalf("publisher send %d: %v", i, err)
		}
		return b
	}
	var sent [][]byte
	for i, back := range [][]byte{[]byte("hello server"), bytes.Repeat([]byte{7}, 5000), bytes.Repeat([]byte{9}, 60000)} {
		if i == 0 {
			err = talker.SendText(string(back))
		} else {
			err = talker.Send(back)
		}
		if err != nil {
			t.Fatalf("viewer send %d: %v", i, err)
		}
		sent = append(sent, send(i))
	}
	for _, v := range viewers {
		expectMessages(t, v, sent)
	}

	// The talker closes its channel and keeps watching; the listener keeps receiving.
	if err := talker.CloseDataChannel(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the closed channel's subscription to end", func() bool { return st.Relay().Stats().Subscribers == 1 })
	after := [][]byte{send(10), send(11)}
	expectMessages(t, listener, after)
	recvFrames(t, talker, m, 30, 20*time.Second) // fails the test unless video keeps coming
	if talker.State().String() != "connected" {
		t.Fatalf("talker state %s after closing its data channel", talker.State())
	}

	srv.closeAll(t, base, talker, listener, pub)
}

// expectMessages reads len(want) messages from v and checks each, in order.
func expectMessages(t *testing.T, v *client.Viewer, want [][]byte) {
	t.Helper()
	for i, w := range want {
		select {
		case got := <-v.Messages():
			if !bytes.Equal(got.Data, w) || got.Label != "data" {
				t.Fatalf("message %d: %q on %q, want %q", i, got.Data, got.Label, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d messages", i, len(want))
		}
	}
}
