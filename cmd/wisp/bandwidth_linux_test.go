//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"
	"golang.org/x/sys/unix"

	"github.com/wisp-media/wisp/client"
)

// Addresses of the veth pair TestBandwidthCappedViewer builds: wisp's end on the host, the capped
// viewer's end in its own network namespace.
const (
	bwHostIP, bwPeerIP = "10.201.0.1", "10.201.0.2"
	bwRate             = "120kbit" // well under the test clip's ~270 kbit/s
)

// ipCmd runs an ip(8) or tc(8) command, failing the test on error.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// cappedLink makes a network namespace joined to the host by a veth pair whose host end shapes
// egress (wisp → namespace) with a tbf qdisc at rate, and returns the namespace's path.
func cappedLink(t *testing.T, rate string) string {
	t.Helper()
	ns := fmt.Sprintf("wispbw%d", os.Getpid())
	hostIf, peerIf := fmt.Sprintf("wbA%d", os.Getpid()%100000), fmt.Sprintf("wbB%d", os.Getpid()%100000)
	ipCmd(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", hostIf).Run()
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	ipCmd(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", peerIf)
	ipCmd(t, "ip", "link", "set", peerIf, "netns", ns)
	ipCmd(t, "ip", "addr", "add", bwHostIP+"/30", "dev", hostIf)
	ipCmd(t, "ip", "link", "set", hostIf, "up")
	ipCmd(t, "ip", "-n", ns, "addr", "add", bwPeerIP+"/30", "dev", peerIf)
	ipCmd(t, "ip", "-n", ns, "link", "set", peerIf, "up")
	ipCmd(t, "ip", "-n", ns, "link", "set", "lo", "up")
	ipCmd(t, "tc", "qdisc", "add", "dev", hostIf, "root", "tbf", "rate", rate, "burst", "4kb", "latency", "200ms")
	return "/var/run/netns/" + ns
}

// nsNet is a pion socket layer whose UDP sockets live in another network namespace: each is
// opened on an OS thread moved into it (the thread is discarded afterwards), and the only
// interface it reports is the namespace's end of the veth pair.
type nsNet struct {
	*stdnet.Net
	path string
	ifc  *transport.Interface
}

func newNSNet(t *testing.T, path string) *nsNet {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	ifc := transport.NewInterface(net.Interface{Index: 1000, MTU: 1500, Name: "veth-ns", Flags: net.FlagUp})
	ifc.AddAddress(&net.IPNet{IP: net.ParseIP(bwPeerIP).To4(), Mask: net.CIDRMask(30, 32)})
	return &nsNet{Net: n, path: path, ifc: ifc}
}

func (n *nsNet) Interfaces() ([]*transport.Interface, error) {
	return []*transport.Interface{n.ifc}, nil
}

func (n *nsNet) InterfaceByName(name string) (*transport.Interface, error) {
	if name == n.ifc.Name {
		return n.ifc, nil
	}
	return nil, fmt.Errorf("no interface %q", name)
}

// ListenUDP opens the socket inside the namespace.
func (n *nsNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	type result struct {
		c   *net.UDPConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread, now in the namespace, exits with us
		f, err := os.Open(n.path)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("setns: %w", err)}
			return
		}
		c, err := net.ListenUDP(network, laddr)
		done <- result{c, err}
	}()
	r := <-done
	if r.err != nil {
		return nil, r.err
	}
	return r.c, nil
}

// api is a pion API on the namespace's sockets, without loopback candidates: the capped veth must
// be the only path.
func (n *nsNet) api(t *testing.T) *webrtc.API {
	api, err := client.NewAPI(client.APIOptions{Net: n, NoLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// A viewer behind a link capped far below the stream's bitrate (tc tbf on a veth pair into its
// own network namespace) cannot keep up, but it slows nobody else: a viewer on a free path
// receives every frame complete at the full rate, and the publisher is not held back
// (architecture: the hot path never waits on a slow peer).
func TestBandwidthCappedViewer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root for network namespaces (CI runs as root)")
	}
	nsPath := cappedLink(t, bwRate)
	srv := startServer(t, func(c *config) { c.ICEHost = bwHostIP })
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub, err := client.Publish(ctx, srv.whipURL("cap"), client.PublishOptions{Video: m.video, Audio: m.audio, Loop: true})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	slow, err := client.View(ctx, srv.whepURL("cap"), client.ViewOptions{Video: true, Audio: true, API: newNSNet(t, nsPath).api(t)})
	if err != nil {
		t.Fatalf("capped view: %v", err)
	}
	defer slow.Close()
	select {
	case <-slow.Connected():
	case <-time.After(15 * time.Second):
		t.Fatal("the capped viewer never connected")
	}
	fast, err := client.View(ctx, srv.whepURL("cap"), client.ViewOptions{Video: true, Audio: true})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer fast.Close()

	recvFrames(t, fast, m, 10, 10*time.Second) // joined: its first keyframe is in
	start, pubStart := fast.Stats().Video, pub.Stats()
	began := time.Now()
	recvFrames(t, fast, m, 150, 15*time.Second) // byte-identical frames, 5 s of video
	elapsed := time.Since(began)
	end, pubEnd := fast.Stats().Video, pub.Stats()
	slowSt := slow.Stats().Video
	t.Logf("free viewer: %d frames in %v, %d incomplete; capped viewer: %d frames, %d incomplete, %d packets lost; publisher wrote %d video samples",
		end.Frames-start.Frames, elapsed.Round(time.Millisecond), end.Incomplete-start.Incomplete, slowSt.Frames, slowSt.Incomplete, slowSt.Lost,
		pubEnd.VideoSamples-pubStart.VideoSamples)
	if inc := end.Incomplete - start.Incomplete; inc > 1 {
		t.Errorf("free viewer: %d incomplete frames while another viewer was starved", inc)
	}
	if elapsed > 7*time.Second {
		t.Errorf("free viewer: 150 frames (5 s of video) took %v", elapsed)
	}
	if slowSt.Lost == 0 && slowSt.Incomplete == 0 {
		t.Error("the capped viewer lost nothing: the cap is not applied")
	}
}
