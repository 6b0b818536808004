//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/wisp-media/wisp/client"
)

// autoLink is one viewer's own network namespace, joined to the host by a veth pair whose host
// end may shape what wisp sends it (tc tbf: this kernel has no netem).
type autoLink struct {
	ns, hostIf   string
	hostIP, peer string
}

// newAutoLink makes namespace i (0-7) of this test process, removed at cleanup; rate "" leaves
// the link unshaped. Its names, and its /30 subnet in 10.203.0.0/16, depend on the pid and i, so
// test processes running at once (other checkouts' test runs on the same machine) do not share
// an address: two of them collide only when their pids agree modulo 2048.
func newAutoLink(t *testing.T, i int, rate string) *autoLink {
	t.Helper()
	pid := os.Getpid() % 100000
	subnet := (pid%2048*8 + i) << 2 // 14 bits of /30 subnets
	l := &autoLink{ns: fmt.Sprintf("wispal%d-%d", pid, i), hostIf: fmt.Sprintf("waA%d-%d", pid, i),
		hostIP: fmt.Sprintf("10.203.%d.%d", subnet>>8, subnet&0xff+1), peer: fmt.Sprintf("10.203.%d.%d", subnet>>8, subnet&0xff+2)}
	peerIf := fmt.Sprintf("waB%d-%d", pid, i)
	ipCmd(t, "ip", "netns", "add", l.ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", l.hostIf).Run()
		_ = exec.Command("ip", "netns", "del", l.ns).Run()
	})
	ipCmd(t, "ip", "link", "add", l.hostIf, "type", "veth", "peer", "name", peerIf)
	ipCmd(t, "ip", "link", "set", peerIf, "netns", l.ns)
	ipCmd(t, "ip", "addr", "add", l.hostIP+"/30", "dev", l.hostIf)
	ipCmd(t, "ip", "link", "set", l.hostIf, "up")
	ipCmd(t, "ip", "-n", l.ns, "addr", "add", l.peer+"/30", "dev", peerIf)
	ipCmd(t, "ip", "-n", l.ns, "link", "set", peerIf, "up")
	ipCmd(t, "ip", "-n", l.ns, "link", "set", "lo", "up")
	if rate != "" {
		l.shape(t, "add", rate)
	}
	return l
}

// shape adds, changes or (rate "") deletes the tbf cap on what wisp sends the namespace.
func (l *autoLink) shape(t *testing.T, op, rate string) {
	t.Helper()
	if op == "del" {
		ipCmd(t, "tc", "qdisc", "del", "dev", l.hostIf, "root")
		return
	}
	ipCmd(t, "tc", "qdisc", op, "dev", l.hostIf, "root", "tbf", "rate", rate, "burst", "16kb", "latency", "300ms")
}

// api is a pion API (default interceptors: transport-cc feedback, receiver reports, NACK) whose
// sockets live in the namespace, with no loopback candidate: the veth is the only path.
func (l *autoLink) api(t *testing.T) *webrtc.API {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	ifc := transport.NewInterface(net.Interface{Index: 1000, MTU: 1500, Name: "veth-ns", Flags: net.FlagUp})
	ifc.AddAddress(&net.IPNet{IP: net.ParseIP(l.peer).To4(), Mask: net.CIDRMask(30, 32)})
	api, err := client.NewAPI(client.APIOptions{Net: &nsNet{Net: n, path: "/var/run/netns/" + l.ns, ifc: ifc}, NoLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// layerWatch follows one viewer's frames: every frame must be byte-identical to a frame of one
// layer's source, a change of layer must start with a keyframe; it records when the viewer
// entered its current layer and the longest gap between frames since a mark.
type layerWatch struct {
	mu       sync.Mutex
	layer    int // index into the sources; -1 before the first frame
	since    time.Time
	last     time.Time
	maxGap   time.Duration
	switches []string
	err      error
	strict   atomic.Bool // every switch must show as a keyframe (a link without loss)
}

// strict also requires every switch to show as a keyframe: only on a link without loss (a capped
// link may drop the keyframe the switch happened at; the viewer then shows the layer from the
// next complete frame, which the assembler delivers only if it is whole).
func watchLayers(ctx context.Context, v *client.Viewer, sets []map[[32]byte]bool, names []string, strict bool) *layerWatch {
	w := &layerWatch{layer: -1}
	w.strict.Store(strict)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case f := <-v.Frames():
				h := sha256.Sum256(f.Data)
				l := slices.IndexFunc(sets, func(s map[[32]byte]bool) bool { return s[h] })
				w.mu.Lock()
				switch {
				case w.err != nil:
				case l < 0:
					w.err = fmt.Errorf("a frame (%d bytes) of no layer", len(f.Data))
				case l != w.layer && !f.Keyframe && w.strict.Load():
					w.err = fmt.Errorf("the switch from %d to layer %q starts with a delta frame", w.layer, names[l])
				case l != w.layer:
					w.layer, w.since = l, f.At
					w.switches = append(w.switches, fmt.Sprintf("%s@%s", names[l], f.At.Format("15:04:05.000")))
				}
				if !w.last.IsZero() {
					w.maxGap = max(w.maxGap, f.At.Sub(w.last))
				}
				w.last = f.At
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// state returns the current layer, since when, and any error.
func (w *layerWatch) state() (int, time.Time, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.layer, w.since, w.err
}

// markGap restarts the freeze measure and returns the longest gap since the previous mark.
func (w *layerWatch) markGap() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.maxGap
	w.maxGap = 0
	return g
}

// TestAutoLayers (issue 12, Done-when 1 in part; WHEPX-06 automatic choice, -auto-layers): a
// PLI-deaf pion publisher sends three H.264 layers, "l" 320x240 about 0.22 Mbit/s, "m" 640x360
// about 0.85 Mbit/s (both a keyframe every second) and "h" 1280x720 about 2.85 Mbit/s (a keyframe
// every 2 s). Three pion viewers, each in its own network namespace, get what wisp sends them
// through a tc tbf cap on their veth: 600 kbit/s, 1600 kbit/s, none. With nothing but their own
// feedback (transport-cc, receiver reports): the 600 kbit/s one, started on "m", is on "l" within
// 2 s plus a keyframe interval (plus 2 s for its first feedback) and holds it for 20 s without a freeze over 500 ms, its probes
// included; the 1600 kbit/s one never gets "h". Every frame is byte-identical to its layer's source
// (and on the link without loss every switch starts at a keyframe); each viewer sees one SSRC.
//
// Not asserted (issue 12 stays open, so -auto-layers is off by default): that the 1600 kbit/s
// viewer holds "m" and the uncapped one reaches and holds "h". Without -race on a quiet enough
// machine the uncapped one reached "h" 72 s after joining and, capped to 600 kbit/s then, was on "l"
// 2.5 s later; under -race on this 2-core machine it never did: pion's GCC without a pacer reads
// keyframe bursts and CPU stalls as overuse and cuts its estimate to 0.85 of what was received,
// below the layer, and a probe for "h" overloads the 1600 kbit/s link for up to a second before
// the player's NACKs stop it. Nor the way back up after a cap is lifted, viewers sending only
// receiver reports, isolation among 20 viewers.
func TestAutoLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root for network namespaces (CI runs as root)")
	}
	rates := []string{"600kbit", "1600kbit", ""}
	links := make([]*autoLink, len(rates))
	for i, r := range rates {
		links[i] = newAutoLink(t, i, r)
	}
	srv := startServer(t, func(c *config) { c.ICEHost = ""; c.AutoLayers = true; c.LogLevel = slog.LevelDebug })
	// The baseline counts the server's own goroutines: with ICEHost "" it has a media socket per
	// address (the namespaces' veths among them), more than the harness's slack.
	base := runtime.NumGoroutine()

	names := []string{"l", "m", "h"}
	var srcs []*client.Source
	var sets []map[[32]byte]bool
	for _, file := range []string{"h264.h264", "h264-360p.h264", "h264-720p.h264"} {
		s, err := client.OpenH264("../../testdata/media/"+file, 30)
		if err != nil {
			t.Fatal(err)
		}
		set := map[[32]byte]bool{}
		for _, f := range s.Samples() {
			set[sha256.Sum256(f.Data)] = true
		}
		srcs, sets = append(srcs, s), append(sets, set)
	}

	// The publisher names its layers by rid only and marks packets with the mid and rid header
	// extensions, as OBS and browsers do (TestSimulcastForwardsBestLayer); it ignores PLIs.
	sp := publishSimulcast(t, srv.whipURL("auto"), srcs[0].Codec(), "auto", names...)
	pub, tr, tracks := sp.rawPeer, sp.tr, sp.tracks
	var stop atomic.Bool
	var wg sync.WaitGroup
	play := func(track *webrtc.TrackLocalStaticRTP, rid string, src *client.Source) {
		defer wg.Done()
		pk := rtp.NewPacketizer(1200, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
		next := time.Now()
		for !stop.Load() {
			for _, s := range src.Samples() {
				if stop.Load() {
					return
				}
				sp.write(track, pk, rid, s.Data)
				next = next.Add(s.Duration)
				time.Sleep(time.Until(next))
			}
		}
	}
	wg.Add(1)
	go func() { // drain RTCP; the PLIs wisp sends are ignored, as OBS does
		defer wg.Done()
		for {
			if _, _, err := tr.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	defer func() { stop.Store(true); _ = pub.pc.Close(); wg.Wait() }()
	select {
	case <-pub.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher not connected")
	}
	for i := range tracks {
		wg.Add(1)
		go play(tracks[i], names[i], srcs[i])
	}
	// The viewers come once wisp sees all three layers (a viewer's estimation is chosen when it arrives).
	waitFor(t, 10*time.Second, "three layers", func() bool {
		st, ok := srv.registry.Get("auto")
		return ok && len(st.Track(webrtc.RTPCodecTypeVideo).Feeds()) == 3
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	viewers := make([]*client.Viewer, len(links))
	watches := make([]*layerWatch, len(links))
	for i, l := range links {
		v, err := client.View(ctx, srv.whepURL("auto"), client.ViewOptions{Video: true, API: l.api(t)})
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		defer v.Close()
		viewers[i], watches[i] = v, watchLayers(ctx, v, sets, names, rates[i] == "")
	}
	report := func() string {
		var b strings.Builder
		for i, w := range watches {
			w.mu.Lock()
			fmt.Fprintf(&b, "\n viewer %d (cap %q): %v", i, rates[i], w.switches)
			w.mu.Unlock()
		}
		return b.String()
	}
	t.Cleanup(func() { t.Logf("layers at the end:%s", report()) })
	check := func() {
		t.Helper()
		for i, w := range watches {
			if _, _, err := w.state(); err != nil {
				t.Fatalf("viewer %d: %v%s", i, err, report())
			}
		}
	}

	// Down fast: the 600 kbit/s viewer joins on "m" (the middle layer, chosen from the initial
	// estimate) which its link cannot carry; it is on "l" within 2 s plus one keyframe interval of
	// "l" after its first frame, plus 2 s in which its first receiver reports and transport-cc
	// feedback arrive (before them it has no budget to fall below).
	const hold = 20 * time.Second
	keyframe := time.Second // the low layer's keyframe interval
	neverHigh := func() {
		t.Helper()
		if l, _, _ := watches[1].state(); l == 2 {
			t.Fatalf("viewer 1 got %q through a 1600 kbit/s cap:%s", names[2], report())
		}
	}
	waitFor(t, 10*time.Second, "viewer 0's first frame", func() bool {
		check()
		l, _, _ := watches[0].state()
		return l >= 0
	})
	watches[0].mu.Lock()
	joined := watches[0].since
	watches[0].mu.Unlock()
	waitFor(t, 2*time.Second+keyframe+2*time.Second, "viewer 0 on l", func() bool {
		check()
		neverHigh()
		l, _, _ := watches[0].state()
		return l == 0
	})
	_, since, _ := watches[0].state()
	t.Logf("viewer 0 on l %v after its first frame", since.Sub(joined).Round(time.Millisecond))
	watches[0].markGap()
	// Hold: the 600 kbit/s viewer keeps "l" for 20 s without a freeze over 500 ms (its probes for
	// "m", which fail, included); the 1600 kbit/s one never gets "h".
	heldFrom := time.Now()
	waitFor(t, hold+5*time.Second, "the hold", func() bool {
		check()
		neverHigh()
		if got, since, _ := watches[0].state(); got != 0 || since.After(heldFrom) {
			t.Fatalf("viewer 0 left layer %q during the hold:%s", names[0], report())
		}
		return time.Since(heldFrom) >= hold
	})
	if g := watches[0].markGap(); g > 500*time.Millisecond {
		t.Errorf("viewer 0: a %v freeze during the hold", g)
	}
	check()

	for i, v := range viewers {
		recs := v.Packets(webrtc.RTPCodecTypeVideo)
		seen := map[uint16]bool{}
		for _, r := range recs {
			if r.SSRC != recs[0].SSRC {
				t.Fatalf("viewer %d: ssrc %x and %x", i, recs[0].SSRC, r.SSRC)
			}
			seen[r.SequenceNumber] = true
		}
		// Over the last packets (retransmissions included), the sequence numbers missing: on a
		// capped link the network drops some for good (a NACK answer can be dropped too), so this
		// is reported, not asserted; wisp's numbering itself is checked by TestLayerSelection.
		first, last := recs[0].SequenceNumber, recs[len(recs)-1].SequenceNumber
		missing := 0
		for s := first; s != last; s++ {
			if !seen[s] {
				missing++
			}
		}
		t.Logf("viewer %d: one SSRC; %d of %d sequence numbers in the last window never arrived", i, missing, last-first+1)
	}
	t.Logf("layers:%s", report())

	// Every viewer's loop and probe padding end with its session: goroutines back to the baseline.
	if d := do(t, "DELETE", pub.loc, "", nil); d.StatusCode != 200 {
		t.Fatalf("DELETE publisher: %d", d.StatusCode)
	}
	stop.Store(true)
	_ = pub.pc.Close()
	wg.Wait()
	cancel()
	sessions := make([]closer, len(viewers))
	for i, v := range viewers {
		sessions[i] = v
	}
	srv.closeAll(t, base, sessions...)
}
