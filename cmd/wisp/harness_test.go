package main

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/wisp-media/wisp/client"
)

// testServer is a real wisp on 127.0.0.1: HTTP on a free port, all media on one free UDP port.
type testServer struct {
	*server
	base string // http://127.0.0.1:port
}

// startServer runs a server until the test ends; cfg tweaks the test defaults.
func startServer(t testing.TB, tweak func(*config)) *testServer {
	t.Helper()
	return startServerLog(t, tweak, nil)
}

// startServerLog is startServer with the server's log also written to logTo (if not nil).
func startServerLog(t testing.TB, tweak func(*config), logTo io.Writer) *testServer {
	t.Helper()
	cfg := config{HTTP: "127.0.0.1:0", ICEHost: "127.0.0.1", LogLevel: slog.LevelWarn, BatchEgress: true,
		PublishKeys: keyMap{}, WatchKeys: keyMap{}, CORSOrigins: []string{"*"}}
	if tweak != nil {
		tweak(&cfg)
	}
	var logOut io.Writer = io.Discard
	if testing.Verbose() {
		logOut = os.Stderr
	}
	if logTo != nil {
		logOut = io.MultiWriter(logOut, logTo)
	}
	srv, err := newServer(cfg, slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})))
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	l, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	scheme := "http"
	if srv.https != nil {
		scheme = "https"
	}
	return &testServer{server: srv, base: scheme + "://" + l.Addr().String()}
}

// closer is a client session: a Publisher or a Viewer.
type closer interface{ Close() error }

// closeAll closes the sessions in order (DELETE each), then checks that the server has ended them
// all, forgotten the streams, and that the goroutines are back to base.
func (s *testServer) closeAll(t *testing.T, base int, sessions ...closer) {
	t.Helper()
	for i, c := range sessions {
		if err := c.Close(); err != nil {
			t.Errorf("close session %d (%T): %v", i, c, err)
		}
	}
	waitFor(t, 5*time.Second, "sessions to end", func() bool { return s.whip.Len() == 0 && s.whep.Len() == 0 && s.registry.Len() == 0 })
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, base)
}

func (s *testServer) whipURL(name string) string { return s.base + "/whip/" + name }
func (s *testServer) whepURL(name string) string { return s.base + "/whep/" + name }

// media is the test media shared by the end-to-end tests, with the set of its frames by hash so
// a received frame can be checked byte for byte.
type media struct {
	video, audio *client.Source
	frames       map[[32]byte]bool
}

func openMedia(t testing.TB) media {
	t.Helper()
	v, err := client.OpenH264("../../testdata/media/h264.h264", 30)
	if err != nil {
		t.Fatalf("open h264: %v", err)
	}
	a, err := client.OpenOpus("../../testdata/media/opus.ogg")
	if err != nil {
		t.Fatalf("open opus: %v", err)
	}
	m := media{video: v, audio: a, frames: make(map[[32]byte]bool)}
	for _, s := range v.Samples() {
		m.frames[sha256.Sum256(s.Data)] = true
	}
	return m
}

// waitFor polls cond every 10 ms until it holds or d passes: a bounded wait on a condition.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkGoroutines fails the test if the goroutine count does not come back to base (plus a
// small allowance for runtime and net/http idle goroutines) within 10 s.
func checkGoroutines(t testing.TB, base int) {
	t.Helper()
	const slack = 3
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+slack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, baseline %d\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recvFrames reads n frames from v within d, checks each is byte-identical to a frame of the
// source, and returns how many were keyframes.
func recvFrames(t *testing.T, v *client.Viewer, m media, n int, d time.Duration) (keyframes int) {
	t.Helper()
	timeout := time.After(d)
	for i := 0; i < n; i++ {
		select {
		case f := <-v.Frames():
			if !m.frames[sha256.Sum256(f.Data)] {
				t.Fatalf("frame %d (%d bytes, key=%v) is not a frame of the source", i, len(f.Data), f.Keyframe)
			}
			if f.Keyframe {
				keyframes++
			}
		case <-timeout:
			t.Fatalf("got %d of %d frames in %v (stats %+v)", i, n, d, v.Stats().Video)
		}
	}
	return keyframes
}
