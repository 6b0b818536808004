//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// sharedAddrNet is the network namespace TestMediaSocketAnyInterfaces starts wisp in: 127.0.0.1
// on lo and also on the namespace's end of a veth pair (the configuration that made a socket per
// interface address fail with "bind: address already in use"), a primary and a secondary address
// on the veth, and a virtual IP on lo (as for direct-return load balancing). The test process
// reaches the namespace over the veth from the host's end. The /24 is picked by pid, so two test
// processes on one machine do not collide.
type sharedAddrNet struct {
	ns                               string
	host, primary, secondary, vip    netip.Addr
	wantCandidates, reachableFromOut []netip.Addr
}

func newSharedAddrNet(t *testing.T) *sharedAddrNet {
	t.Helper()
	pid := os.Getpid()
	sub := fmt.Sprintf("10.209.%d.", pid%250+1)
	n := &sharedAddrNet{
		ns:        fmt.Sprintf("wispms%d", pid),
		host:      netip.MustParseAddr(sub + "1"),
		primary:   netip.MustParseAddr(sub + "2"),
		secondary: netip.MustParseAddr(sub + "3"),
		vip:       netip.MustParseAddr(sub + "9"),
	}
	loop := netip.MustParseAddr("127.0.0.1")
	n.wantCandidates = []netip.Addr{loop, n.primary, n.secondary, n.vip}
	n.reachableFromOut = []netip.Addr{n.primary, n.secondary, n.vip}
	hostIf, nsIf := fmt.Sprintf("wmA%d", pid%100000), fmt.Sprintf("wmB%d", pid%100000)
	ipCmd(t, "ip", "netns", "add", n.ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", hostIf).Run()
		_ = exec.Command("ip", "netns", "del", n.ns).Run()
	})
	ipCmd(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf)
	ipCmd(t, "ip", "link", "set", nsIf, "netns", n.ns)
	ipCmd(t, "ip", "addr", "add", n.host.String()+"/24", "dev", hostIf)
	ipCmd(t, "ip", "link", "set", hostIf, "up")
	ipCmd(t, "ip", "-n", n.ns, "link", "set", "lo", "up") // 127.0.0.1/8 on lo
	ipCmd(t, "ip", "-n", n.ns, "addr", "add", "127.0.0.1/8", "dev", nsIf)
	ipCmd(t, "ip", "-n", n.ns, "addr", "add", n.primary.String()+"/24", "dev", nsIf)
	ipCmd(t, "ip", "-n", n.ns, "addr", "add", n.secondary.String()+"/24", "dev", nsIf)
	ipCmd(t, "ip", "-n", n.ns, "addr", "add", n.vip.String()+"/32", "dev", "lo")
	ipCmd(t, "ip", "-n", n.ns, "link", "set", nsIf, "up")
	return n
}

// startInNS builds wisp and starts it inside the namespace with default media settings (UDP
// 8189 on every interface, ICE-TCP on), returning its base URL as seen from the host.
func (n *sharedAddrNet) startInNS(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wisp")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go") // the toolchain running this test
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("ip", "netns", "exec", n.ns, bin, "-rate-limit", "0", "-log-level", "debug")
	cmd.Env = append(os.Environ(), "WISP_PUBLISH_KEYS=", "WISP_WATCH_KEYS=")
	inOwnGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wisp's log:\n%s", logs.String())
		}
	})
	t.Cleanup(func() { killGroup(t, cmd) }) // kills, then reaps with cmd.Wait
	announced, eof := make(chan struct{}, 1), make(chan struct{})
	go func() {
		defer close(eof) // stdout ends when wisp exits
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "open http://") {
				select {
				case announced <- struct{}{}:
				default:
				}
			}
		}
	}()
	select {
	case <-announced:
	case <-eof:
		t.Fatalf("wisp exited at start:\n%s", logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("wisp did not announce its URL in 20 s")
	}
	return "http://" + n.primary.String() + ":8080"
}

// With default media settings wisp starts in a namespace where 127.0.0.1 is on two interfaces
// (issue 16), and serves media there:
//   - a pion publisher and a pion viewer on the host reach it over the veth, and the viewer
//     receives the publisher's H.264 frames byte for byte; so does a viewer restricted to ICE-TCP;
//   - the answer names every address of the namespace as a UDP host candidate exactly once
//     (127.0.0.1 once although it is on two interfaces; the secondary address and the virtual IP
//     too) on the one media port, and offers ICE-TCP candidates on the same port (COMMON-06);
//   - an authenticated STUN binding request sent to each address reachable from outside is
//     answered from that same address and port (RFC 8445 §7.2.5.2.1: a reply from another source
//     fails the check); without per-datagram source addresses the kernel would answer for the
//     secondary address and the virtual IP from the veth's primary one.
func TestMediaSocketAnyInterfaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root for network namespaces (CI runs as root)")
	}
	n := newSharedAddrNet(t)
	base := n.startInNS(t)
	m := openMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	api := func() *webrtc.API { // host candidates on the host's interfaces: the veth is the path
		a, err := client.NewAPI(client.APIOptions{NoLoopback: true})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	pub, err := client.Publish(ctx, base+"/whip/cam", client.PublishOptions{Video: m.video, Loop: true, API: api()})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer pub.Close()
	v, err := client.View(ctx, base+"/whep/cam", client.ViewOptions{Video: true, API: api()})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	defer v.Close()
	// 60 frames at 30 fps: two seconds of video, byte for byte.
	if keys := recvFrames(t, v, m, 60, 30*time.Second); keys == 0 {
		t.Fatal("no keyframe among the first 60 frames")
	}

	// A viewer that can use ICE-TCP only (pion's active TCP candidates) plays too: the fallback
	// listener of the default settings, on the same port number.
	tv, err := client.View(ctx, base+"/whep/cam", client.ViewOptions{Video: true, API: tcpOnlyAPI(t)})
	if err != nil {
		t.Fatalf("view over ICE-TCP: %v", err)
	}
	defer tv.Close()
	if keys := recvFrames(t, tv, m, 60, 30*time.Second); keys == 0 {
		t.Fatal("ICE-TCP viewer: no keyframe among the first 60 frames")
	}

	// A third viewer, negotiated by hand, gives the test the answer and both ICE credentials.
	raw := newRawPeerAPI(t, api())
	if _, err := raw.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	raw.negotiate(t, base+"/whep/cam")
	udp, tcp := hostCandidates(t, raw.answer)
	if got, want := addrList(udp), addrList(n.wantCandidates); got != want {
		t.Fatalf("UDP host candidates %s, want each of %s once", got, want)
	}
	var port uint16
	for _, c := range udp {
		if port == 0 {
			port = c.Port()
		}
		if c.Port() != port || port != 8189 {
			t.Fatalf("candidate %v: want every UDP candidate on the one media port 8189", c)
		}
	}
	if len(tcp) == 0 || tcp[0].Port() != port {
		t.Fatalf("ICE-TCP candidates %v: want passive candidates on port %d", tcp, port)
	}

	serverUfrag, serverPwd := attr(raw.answer, "ice-ufrag"), attr(raw.answer, "ice-pwd")
	clientUfrag := attr(raw.pc.LocalDescription().SDP, "ice-ufrag")
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: n.host.AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	for _, addr := range n.reachableFromOut {
		to := netip.AddrPortFrom(addr, port)
		req, err := stun.Build(stun.TransactionID, stun.BindingRequest,
			stun.NewUsername(serverUfrag+":"+clientUfrag), ice.AttrControlling(1), ice.PriorityAttr(1),
			stun.NewShortTermIntegrity(serverPwd), stun.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		from, resp := stunExchange(t, probe, to, req)
		if resp.Type != stun.BindingSuccess {
			t.Fatalf("binding request to %v: got %v", to, resp.Type)
		}
		if from != to {
			t.Fatalf("binding request sent to %v was answered from %v", to, from)
		}
	}
}

// tcpOnlyAPI is a pion API whose ICE agent uses TCP only (active candidates, RFC 6544), so
// the session can connect only through wisp's ICE-TCP listener.
func tcpOnlyAPI(t *testing.T) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	se.SetIncludeLoopbackCandidate(false)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// stunExchange sends req to to and returns the source and message of the response with req's
// transaction id, retransmitting as STUN does (RFC 8489 §6.2.1: 500 ms, doubling, 7 tries).
func stunExchange(t *testing.T, c *net.UDPConn, to netip.AddrPort, req *stun.Message) (netip.AddrPort, *stun.Message) {
	t.Helper()
	buf := make([]byte, 1500)
	rto := 500 * time.Millisecond
	for try := 0; try < 7; try++ {
		if _, err := c.WriteToUDPAddrPort(req.Raw, to); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(rto))
		for {
			k, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break // timeout: retransmit
			}
			resp := &stun.Message{Raw: append([]byte(nil), buf[:k]...)}
			if resp.Decode() == nil && resp.TransactionID == req.TransactionID {
				return netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), resp
			}
		}
		rto *= 2
	}
	t.Fatalf("no answer to a STUN binding request sent to %v", to)
	return netip.AddrPort{}, nil
}

var candidateLine = regexp.MustCompile(`(?m)^a=candidate:\S+ 1 (udp|tcp) \d+ (\S+) (\d+) typ host`)

// hostCandidates returns the UDP and TCP host candidates of an SDP's first media section.
func hostCandidates(t *testing.T, sdp string) (udp, tcp []netip.AddrPort) {
	t.Helper()
	_, media := sections(sdp)
	if len(media) == 0 {
		t.Fatalf("no media section in\n%s", sdp)
	}
	for _, m := range candidateLine.FindAllStringSubmatch(media[0], -1) {
		ap, err := netip.ParseAddrPort(net.JoinHostPort(m[2], m[3]))
		if err != nil {
			t.Fatalf("candidate %q: %v", m[0], err)
		}
		if strings.EqualFold(m[1], "udp") {
			udp = append(udp, ap)
		} else {
			tcp = append(tcp, ap)
		}
	}
	return udp, tcp
}

// addrList is the sorted list of the addresses (of AddrPorts or Addrs), duplicates kept.
func addrList[T interface{ String() string }](xs []T) string {
	var s []string
	for _, x := range xs {
		a := x.String()
		if ap, err := netip.ParseAddrPort(a); err == nil {
			a = ap.Addr().String()
		}
		s = append(s, a)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}
