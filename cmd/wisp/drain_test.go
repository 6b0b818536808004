package main

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// drainSession is a publisher and a viewer of "cam" on a running binary, the viewer's frames
// checked byte for byte and timed by a reader goroutine.
type drainSession struct {
	pub       *client.Publisher
	v         *client.Viewer
	lastFrame atomic.Int64 // unix ns of the last good frame
	bad       atomic.Int64 // frames that were not frames of the source
	stopped   chan struct{}
}

func startDrainSession(t *testing.T, base string) *drainSession {
	t.Helper()
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, base+"/whip/cam", client.PublishOptions{Video: m.video, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	v, err := client.View(ctx, base+"/whep/cam", client.ViewOptions{Video: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	recvFrames(t, v, m, 30, 10*time.Second)
	d := &drainSession{pub: pub, v: v, stopped: make(chan struct{})}
	go func() {
		defer close(d.stopped)
		for {
			select {
			case f := <-v.Frames():
				if !m.frames[sha256.Sum256(f.Data)] {
					d.bad.Add(1)
				}
				d.lastFrame.Store(time.Now().UnixNano())
			case <-v.Ended():
				return
			}
		}
	}()
	return d
}

// post sends a POST with an SDP offer to url and returns the response (body closed).
func postOffer(t *testing.T, url, file string) *http.Response {
	t.Helper()
	offer, err := os.ReadFile("../../testdata/offers/" + file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.Post(url, "application/sdp", strings.NewReader(string(offer)))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode
}

// Graceful drain (issue 14, Done-when 6) on the real binary with -drain-timeout: at SIGTERM
// /readyz turns 503 while /healthz stays 200, a new WHIP or WHEP POST gets 503 + Retry-After
// (COMMON-29), the live viewer keeps decoding source frames until the drain timeout, and then the
// process exits with status 0, each peer seeing the server's DTLS close (COMMON-36).
func TestDrainOnSIGTERM(t *testing.T) {
	const drainTimeout = 5 * time.Second
	p := startWisp(t, buildWisp(t), "-drain-timeout", drainTimeout.String())
	if got := getStatus(t, p.base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz before the drain: %d, want 200", got)
	}
	d := startDrainSession(t, p.base)

	p.signal(t, syscall.SIGTERM)
	sent := time.Now()
	waitFor(t, drainTimeout/5, "/readyz 503", func() bool { return getStatus(t, p.base+"/readyz") == http.StatusServiceUnavailable })
	if got := getStatus(t, p.base+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz while draining: %d, want 200", got)
	}
	for _, ep := range []struct{ path, offer string }{{"/whep/cam", "chrome-recvonly.sdp"}, {"/whip/other", "chrome-publish.sdp"}} {
		r := postOffer(t, p.base+ep.path, ep.offer)
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); r.StatusCode != http.StatusServiceUnavailable || err != nil || s < 1 {
			t.Errorf("POST %s while draining: %d Retry-After %q, want 503 with Retry-After", ep.path, r.StatusCode, r.Header.Get("Retry-After"))
		}
	}

	if _, err := p.waitExit(t, drainTimeout+5*time.Second); err != nil { // the drain, then the 5 s shutdown bound
		t.Fatalf("wisp exited with %v, want status 0", err)
	}
	took := time.Since(sent)
	if took < drainTimeout {
		t.Errorf("exited %v after SIGTERM, before the %v drain timeout with sessions live", took, drainTimeout)
	}
	last := time.Unix(0, d.lastFrame.Load())
	// The viewer decoded until the timeout: its last frame came within a second (30 frames) of it.
	if last.Sub(sent) < drainTimeout-time.Second {
		t.Errorf("last frame %v after SIGTERM, want frames until the %v drain timeout", last.Sub(sent).Round(time.Millisecond), drainTimeout)
	}
	if n := d.bad.Load(); n != 0 {
		t.Errorf("%d frames during the drain were not frames of the source", n)
	}
	for name, s := range map[string]interface {
		Ended() <-chan struct{}
		State() webrtc.PeerConnectionState
	}{"publisher": d.pub, "viewer": d.v} {
		select {
		case <-s.Ended():
		case <-time.After(3 * time.Second): // under the clients' 5 s ICE disconnected timeout
			t.Fatalf("%s: no close seen 3 s after wisp exited (state %s)", name, s.State())
		}
		if st := s.State(); st != webrtc.PeerConnectionStateClosed {
			t.Errorf("%s: state %s, want closed (DTLS close_notify)", name, st)
		}
	}
	t.Logf("exited %v after SIGTERM; last frame %v after it", took.Round(time.Millisecond), last.Sub(sent).Round(time.Millisecond))
}

// A second SIGTERM during a drain closes every session at once: with a drain timeout of a
// minute, the process exits within the shutdown bound of the second signal.
func TestDrainSecondSignal(t *testing.T) {
	const drainTimeout = time.Minute
	p := startWisp(t, buildWisp(t), "-drain-timeout", drainTimeout.String())
	d := startDrainSession(t, p.base)
	p.signal(t, syscall.SIGTERM)
	waitFor(t, 5*time.Second, "/readyz 503", func() bool { return getStatus(t, p.base+"/readyz") == http.StatusServiceUnavailable })
	p.signal(t, syscall.SIGTERM)
	if _, err := p.waitExit(t, drainTimeout/6); err != nil { // 10 s: the 5 s shutdown bound and margin
		t.Fatalf("wisp exited with %v, want status 0", err)
	}
	select {
	case <-d.v.Ended():
	case <-time.After(3 * time.Second):
		t.Fatalf("viewer: no close seen 3 s after wisp exited (state %s)", d.v.State())
	}
	if !strings.Contains(p.logs.String(), "second signal") {
		t.Errorf("the log does not say the second signal ended the drain")
	}
}

// A cluster node whose directory (Redis) is unreachable still serves, so it stays ready: /readyz
// answers 200 and says it is degraded, and wisp_cluster_directory_up is 0. A single node has no
// such metric.
func TestReadyWhenDirectoryDown(t *testing.T) {
	single := startServer(t, func(c *config) { c.Metrics = "127.0.0.1:0" })
	if single.find(t) {
		t.Fatal("a single node exports wisp_cluster_directory_up")
	}
	srv := startServer(t, func(c *config) {
		c.Metrics = "127.0.0.1:0"
		c.Cluster = clusterConfig{Redis: "redis://127.0.0.1:" + strconv.Itoa(freeTCPPort(t)), NodeURL: "http://127.0.0.1:1",
			NodeID: "n1", Secret: "0123456789abcdef0123", LeaseTTL: 3 * time.Second}
	})
	waitFor(t, 5*time.Second, "/readyz to say degraded", func() bool {
		r, err := http.Get(srv.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("/readyz with the directory down: %d, want 200 (the node still serves)", r.StatusCode)
		}
		return strings.Contains(string(body), "degraded")
	})
	if got := scrapeMetrics(t, srv).value(t, "wisp_cluster_directory_up"); got != 0 {
		t.Fatalf("wisp_cluster_directory_up = %v with Redis down, want 0", got)
	}
}

// find reports whether the server exports wisp_cluster_directory_up.
func (s *testServer) find(t *testing.T) bool {
	return scrapeMetrics(t, s).find("wisp_cluster_directory_up") != nil
}
