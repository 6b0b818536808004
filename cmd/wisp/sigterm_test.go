package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// freeUDPPort returns a UDP port that was free a moment ago (the binary's flag refuses 0).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// The real binary, with a publisher and a viewer connected and playing, gets SIGTERM: it exits
// with status 0 within 5 s, and both peers see their PeerConnection closed by the server's DTLS
// close_notify (state "closed", long before consent freshness could notice: COMMON-36), not
// failed.
func TestSIGTERMClosesSessions(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "wisp")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go") // the toolchain running this test
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-http", "127.0.0.1:0", "-ice-host", "127.0.0.1", "-ice-tcp=false",
		"-udp-port", strconv.Itoa(freeUDPPort(t)), "-rate-limit", "0", "-log-level", "debug", "-metrics", "off")
	cmd.Env = append(os.Environ(), "WISP_PUBLISH_KEYS=", "WISP_WATCH_KEYS=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd.Stderr = &logs
	defer func() {
		if t.Failed() {
			t.Logf("wisp's log:\n%s", logs.String())
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`open (http://[0-9.:]+)/`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				base <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-base:
	case err := <-exited:
		t.Fatalf("wisp exited at start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("wisp did not announce its URL in 10 s")
	}

	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Fault-free faultNets count the DTLS alert records each peer receives. (Before shutdown
	// closed sessions one at a time, a peer missed its close_notify about one run in five.)
	pubNet, viewNet := newFaultNet(t, 1, 0, 0), newFaultNet(t, 2, 0, 0)
	pub, err := client.Publish(ctx, url+"/whip/cam", client.PublishOptions{Video: m.video, Loop: true, API: pubNet.api(t)})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	v, err := client.View(ctx, url+"/whep/cam", client.ViewOptions{Video: true, API: viewNet.api(t)})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer v.Close()
	recvFrames(t, v, m, 30, 10*time.Second)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("wisp exited with %v after SIGTERM, want status 0", err)
		}
		t.Logf("exited with status 0 after %v", time.Since(sent).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("wisp still running 5 s after SIGTERM")
	}
	for name, s := range map[string]interface {
		Ended() <-chan struct{}
		State() webrtc.PeerConnectionState
	}{"publisher": pub, "viewer": v} {
		select {
		case <-s.Ended():
		case <-time.After(3 * time.Second): // under the clients' 5 s ICE disconnected timeout
			buf := make([]byte, 1<<20)
			os.WriteFile("/tmp/sigstack.txt", buf[:runtime.Stack(buf, true)], 0o644)
			t.Fatalf("%s: no close seen 3 s after wisp exited (state %s); DTLS alerts received: publisher %d, viewer %d", name, s.State(), pubNet.alerts.Load(), viewNet.alerts.Load())
		}
		if st := s.State(); st != webrtc.PeerConnectionStateClosed {
			t.Errorf("%s: state %s, want closed (DTLS close_notify)", name, st)
		}
	}
	// The close came on the wire: each peer received a DTLS alert record (the close_notify).
	if pubNet.alerts.Load() == 0 || viewNet.alerts.Load() == 0 {
		t.Errorf("DTLS alerts received: publisher %d, viewer %d; want ≥ 1 each", pubNet.alerts.Load(), viewNet.alerts.Load())
	}
}
