package client

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// waitTime bounds every wait in these tests.
const waitTime = 10 * time.Second

// noLeaks records the goroutine count; at cleanup (registered first, so it runs last) it polls
// until the count is back, and fails with a dump if it is not within waitTime.
func noLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.NewTimer(waitTime)
		defer deadline.Stop()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for runtime.NumGoroutine() > base {
			select {
			case <-tick.C:
			case <-deadline.C:
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
		}
	})
}

// newHTTPClient returns a client with its own transport, whose idle connections are closed at
// cleanup so that they do not count as leaks.
func newHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// wait fails the test if ch is not closed (or does not deliver) within waitTime.
func wait[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTime):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// recv returns the next value from ch, failing the test after waitTime.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTime):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// eventually polls cond until it holds, failing after waitTime.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// recvFrame returns the viewer's next frame. On timeout it fails with what both ends saw, so a
// stall says whether packets stopped arriving or arrived without completing a frame.
func recvFrame(t *testing.T, v *Viewer, srv *peer, what string) Frame {
	t.Helper()
	select {
	case f := <-v.Frames():
		return f
	case <-time.After(waitTime):
		t.Fatalf("timed out waiting for %s; viewer %s; server %s", what, describeViewer(v), describePeer(srv.pc))
	}
	return Frame{}
}

func describeViewer(v *Viewer) string {
	st := v.Stats()
	return fmt.Sprintf("%s video %+v audio packets %d", describePeer(v.s.pc), st.Video, st.Audio.Packets)
}

// describePeer gives a PeerConnection's states and selected candidate pair.
func describePeer(pc *webrtc.PeerConnection) string {
	pair := "none"
	if sctp := pc.SCTP(); sctp != nil {
		if p, err := sctp.Transport().ICETransport().GetSelectedCandidatePair(); err == nil && p != nil {
			pair = p.String()
		}
	}
	return fmt.Sprintf("pc %s ice %s pair %s", pc.ConnectionState(), pc.ICEConnectionState(), pair)
}
